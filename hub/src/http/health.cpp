#include "http/health.hpp"

namespace energyhub {

namespace {

HttpResponse status_response(bool up, const std::string& components) {
    HttpResponse r;
    r.status = up ? 200 : 503;
    r.body = std::string("{\"status\":\"") + (up ? "UP" : "DOWN") + "\"";
    if (!components.empty()) r.body += ",\"components\":{" + components + "}";
    r.body += "}";
    return r;
}

}  // namespace

HttpResponse HealthRegistry::health() const {
    bool up = true;
    std::string components;
    for (const auto& e : checks_) {
        auto h = e.check();
        if (e.required && !h.up) up = false;
        if (!components.empty()) components += ',';
        components += "\"" + e.name + "\":{\"status\":\"" + (h.up ? "UP" : "DOWN") + "\",\"details\":" + h.details_json + "}";
    }
    return status_response(up, components);
}

HttpResponse HealthRegistry::readiness() const {
    bool up = true;
    for (const auto& e : checks_)
        if (e.required && !e.check().up) up = false;
    return status_response(up, "");
}

HttpResponse HealthRegistry::alive() const { return status_response(!liveness_ || liveness_().up, ""); }

void add_health_routes(HttpServer& server, const HealthRegistry& health) {
    server.probe("/health", [&health](const HttpRequest&) { return health.health(); });
    server.probe("/health/liveness", [&health](const HttpRequest&) { return health.alive(); });
    server.probe("/health/readiness", [&health](const HttpRequest&) { return health.readiness(); });
}

}  // namespace energyhub
