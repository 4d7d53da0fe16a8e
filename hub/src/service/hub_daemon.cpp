#include "service/hub_daemon.hpp"

#include <filesystem>
#include <thread>

#include <spdlog/spdlog.h>

#include "http/health.hpp"
#include "http/http_server.hpp"
#include "mqtt/mqtt_client.hpp"
#include "pipeline/spool.hpp"
#include "service/daemon_support.hpp"
#include "service/hub_metrics.hpp"
#include "service/ingest_worker.hpp"
#include "util/logging.hpp"
#include "util/signals.hpp"
#include "util/systemd.hpp"

namespace energyhub {

namespace {

constexpr auto kDisconnectTimeout = std::chrono::milliseconds(2000);
constexpr auto kDrainDeadline = std::chrono::milliseconds(15000);

class MqttSink final : public MessageSink {
public:
    explicit MqttSink(MqttClient& client) : client_(client) {}
    void publish(const std::string& topic, std::string_view payload, int qos, bool retained) override {
        client_.publish(topic, payload, qos, retained);
    }

private:
    MqttClient& client_;
};

}  // namespace

int run_hub(const Config& config, const std::string& config_path) {
    auto log = spdlog::get("energyhub");
    ShutdownSignals signals;  // before any thread starts, so all inherit the mask

    const auto state = std::filesystem::path(config.hub.state_dir);
    Spool spool(state / "spool", config.hub.spool_segment_bytes, config.hub.spool_max_bytes);
    IngestMetrics metrics;
    const Clock& clock = SystemClock::instance();

    MqttClient mqtt(config.mqtt, "hub", config.mqtt.qos == 2 ? (state / "mqtt-session").string() : std::string());
    // The only work done on Paho's thread: one write to the spool.
    mqtt.on_message([&](std::string_view topic, std::string_view payload) { spool.append(clock.now_ms(), topic, payload); });
    mqtt.subscribe(config.mqtt.reading_topic, config.mqtt.qos);

    MqttSink sink(mqtt);
    IngestWorker worker(config, spool, sink, metrics, clock);
    std::atomic<bool> failed{false};
    std::thread ingest([&] {
        try {
            worker.run();
        } catch (const std::exception& e) {
            spdlog::get("hub.ingest")->critical("ingest worker failed: {}", e.what());
            failed = true;
            ShutdownSignals::request_shutdown();
        }
    });

    HealthRegistry health;
    register_hub_health(health, metrics, spool, mqtt, !config.redis.uri.empty());
    auto http = start_http(config.http, config.http.listen, health, [&] {
        return render_hub_metrics(metrics, spool.stats(), mqtt);
    });

    std::atomic<bool> stopping{false};
    std::thread signal_thread([&] {
        const char* why = signals.wait([&] {
            try {
                auto fresh = load_config(config_path);
                setup_logging(fresh.log.level);
                worker.reload_thresholds(std::make_shared<const ThresholdsConfig>(fresh.thresholds));
                log->info("reloaded log level and thresholds from {}", config_path);
            } catch (const std::exception& e) {
                log->error("reload failed, keeping the running configuration: {}", e.what());
            }
        });
        log->info("received {}, shutting down", why);
        stopping = true;
    });

    log->info("hub starting: subscribing {} with QoS {}, spool {}", config.mqtt.reading_topic, config.mqtt.qos,
              (state / "spool").string());
    if (mqtt.connect([&] { return stopping.load(); })) {
        systemd::ready("receiving readings");
        watchdog_loop(stopping, [&] { return health.alive().status == 200; });
    }
    signal_thread.join();
    systemd::stopping();

    // Stop the inflow first, then store everything that was spooled.
    mqtt.disconnect(kDisconnectTimeout);
    spool.close();
    worker.stop(kDrainDeadline);
    ingest.join();
    if (http) http->stop();
    log->info("hub stopped: received={} stored={} duplicates={} rejected={}", metrics.received.load(),
              metrics.stored.load(), metrics.duplicates.load(), metrics.rejected_total());
    return failed ? 1 : 0;
}

}  // namespace energyhub
