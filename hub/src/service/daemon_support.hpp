#pragma once
// What every long-running daemon does the same way: an HTTP listener with /health and /metrics,
// and a main loop that pings the systemd watchdog while the daemon is alive.
#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "http/health.hpp"
#include "http/http_server.hpp"

namespace energyhub {

// nullptr when `listen` is empty. Throws std::runtime_error if the address cannot be bound.
// `routes` adds a daemon's own routes (the hub's dashboard) before the server starts.
std::unique_ptr<HttpServer> start_http(const HttpConfig& config, const std::string& listen, const HealthRegistry& health,
                                       std::function<std::string()> metrics,
                                       const std::function<void(HttpServer&)>& routes = {});

// Returns when `stopping` is set. A stuck daemon (alive() false) stops the pings, and systemd
// restarts the service.
void watchdog_loop(const std::atomic<bool>& stopping, const std::function<bool()>& alive);

}  // namespace energyhub
