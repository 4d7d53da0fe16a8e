#include "service/daemon_support.hpp"

#include <thread>

#include <spdlog/spdlog.h>

#include "http/prometheus.hpp"
#include "util/systemd.hpp"

namespace energyhub {

std::unique_ptr<HttpServer> start_http(const HttpConfig& config, const std::string& listen, const HealthRegistry& health,
                                       std::function<std::string()> metrics,
                                       const std::function<void(HttpServer&)>& routes) {
    if (listen.empty()) return nullptr;
    auto http = std::make_unique<HttpServer>(listen);
    if (!config.token.empty()) http->require_token(config.token);
    if (!config.tls.cert_file.empty()) http->use_tls(config.tls.cert_file, config.tls.key_file);
    add_health_routes(*http, health);
    http->probe("/metrics", [metrics = std::move(metrics)](const HttpRequest&) {
        return HttpResponse{200, kPrometheusContentType, metrics()};
    });
    if (routes) routes(*http);
    http->start();
    spdlog::get("energyhub")->info("http listening on {}:{}{}", http->host(), http->port(), http->tls() ? " (https)" : "");
    return http;
}

void watchdog_loop(const std::atomic<bool>& stopping, const std::function<bool()>& alive) {
    const auto interval = systemd::watchdog_interval();
    auto next = std::chrono::steady_clock::now();
    while (!stopping) {
        if (interval.count() > 0 && std::chrono::steady_clock::now() >= next && alive()) {
            systemd::watchdog();
            next = std::chrono::steady_clock::now() + interval;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

}  // namespace energyhub
