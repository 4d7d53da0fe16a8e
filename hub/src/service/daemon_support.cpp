#include "service/daemon_support.hpp"

#include <thread>

#include <spdlog/spdlog.h>

#include "http/prometheus.hpp"
#include "util/logging.hpp"
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
    spdlog::get("energyhub")
        ->info("http listening on {}:{}{}", http->host(), http->port(), http->tls() ? " (https)" : "");
    return http;
}

std::thread start_guarded(std::shared_ptr<spdlog::logger> log, std::string what, std::atomic<bool>& failed,
                          std::function<void()> body) {
    return std::thread([log = std::move(log), what = std::move(what), &failed, body = std::move(body)] {
        try {
            body();
        } catch (const std::exception& e) {
            log->critical("{} failed: {}", what, e.what());
            failed = true;
            ShutdownSignals::request_shutdown();
        }
    });
}

MqttConfig with_client_id(MqttConfig mqtt, std::string client_id) {
    mqtt.client_id = std::move(client_id);
    return mqtt;
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

bool serve_until_stopped(ShutdownSignals& signals, MqttClient& mqtt, std::atomic<bool>& stopping,
                         const DaemonHooks& hooks) {
    std::thread signal_thread([&] {
        const char* why = signals.wait([&] {
            try {
                auto fresh = load_config(hooks.config_path);
                setup_logging(fresh.log.level, fresh.log.format);
                if (hooks.reload) hooks.reload(fresh);
                hooks.log->info("reloaded the configuration from {}", hooks.config_path);
            } catch (const std::exception& e) {
                hooks.log->error("reload failed, keeping the running configuration: {}", e.what());
            }
        });
        hooks.log->info("received {}, shutting down", why);
        stopping = true;
        if (hooks.stop) hooks.stop();
    });
    const bool reached = mqtt.connect([&] { return stopping.load(); });
    if (reached) {
        if (hooks.connected) hooks.connected();
        systemd::ready(hooks.ready_status);
        watchdog_loop(stopping, hooks.alive);
    }
    signal_thread.join();
    systemd::stopping();
    return reached;
}

}  // namespace energyhub
