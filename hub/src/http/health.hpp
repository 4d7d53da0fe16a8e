#pragma once
// Health in the shape of Spring Boot Actuator: {"status":"UP","components":{"postgres":{...}}}.
// Each daemon registers its components; the answer is 503 when a required one is DOWN.
#include <functional>
#include <string>
#include <vector>

#include "http/http_server.hpp"

namespace energyhub {

struct ComponentHealth {
    bool up = true;
    std::string details_json = "{}";  // a JSON object with component-specific facts
};

class HealthRegistry {
public:
    using Check = std::function<ComponentHealth()>;

    // Required components decide the overall status; optional ones (Redis) are shown only.
    void add(std::string name, bool required, Check check) { checks_.push_back({std::move(name), required, std::move(check)}); }

    // Liveness: the daemon's own loop is turning (a stuck worker makes the process not alive).
    void liveness(Check check) { liveness_ = std::move(check); }

    HttpResponse health() const;
    HttpResponse readiness() const;
    HttpResponse alive() const;

private:
    struct Entry {
        std::string name;
        bool required;
        Check check;
    };
    std::vector<Entry> checks_;
    Check liveness_;
};

// GET /health, /health/liveness, /health/readiness.
void add_health_routes(HttpServer& server, const HealthRegistry& health);

}  // namespace energyhub
