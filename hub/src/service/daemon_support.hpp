#pragma once
// What every long-running daemon does the same way: an HTTP listener with /health and /metrics,
// the signals (SIGHUP reloads, SIGTERM stops), the broker connection, sd_notify READY and a
// watchdog fed by a real liveness check, then STOPPING; each daemon then stops its own parts.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "config/config.hpp"
#include "http/health.hpp"
#include "http/http_server.hpp"
#include "mqtt/mqtt_client.hpp"
#include "util/signals.hpp"

namespace spdlog {
class logger;
}

namespace energyhub {

// nullptr when `listen` is empty. Throws std::runtime_error if the address cannot be bound.
// `routes` adds a daemon's own routes (the hub's dashboard) before the server starts.
std::unique_ptr<HttpServer> start_http(const HttpConfig& config, const std::string& listen, const HealthRegistry& health,
                                       std::function<std::string()> metrics,
                                       const std::function<void(HttpServer&)>& routes = {});

// Returns when `stopping` is set. A stuck daemon (alive() false) stops the pings, and systemd
// restarts the service.
void watchdog_loop(const std::atomic<bool>& stopping, const std::function<bool()>& alive);

// A daemon's work thread: an exception out of `body` is logged as critical, sets `failed` and stops
// the daemon (the exit code then says so) rather than ending the process mid-write.
std::thread start_guarded(std::shared_ptr<spdlog::logger> log, std::string what, std::atomic<bool>& failed,
                          std::function<void()> body);

// The mqtt section under a daemon's own client id (each daemon has its own session at the broker).
MqttConfig with_client_id(MqttConfig mqtt, std::string client_id);

struct DaemonHooks {
    std::shared_ptr<spdlog::logger> log;
    std::string config_path;
    const char* ready_status = "running";       // sd_notify STATUS= once serving
    std::function<void(const Config&)> reload;  // SIGHUP, after the log level (may be empty)
    std::function<void()> stop;                 // a stop request: wake the daemon's loops
    std::function<void()> connected;            // once the broker answered, before READY
    std::function<bool()> alive;                // the daemon's own loop is turning
};

// Serves until SIGTERM or SIGINT (or ShutdownSignals::request_shutdown()): connects `mqtt`
// (giving up when asked to stop), tells systemd READY, feeds the watchdog while `alive`, and on
// the stop sets `stopping`, calls hooks.stop and tells systemd STOPPING. Returns whether the
// broker had been reached.
bool serve_until_stopped(ShutdownSignals& signals, MqttClient& mqtt, std::atomic<bool>& stopping,
                         const DaemonHooks& hooks);

}  // namespace energyhub
