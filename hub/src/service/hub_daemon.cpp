#include "service/hub_daemon.hpp"

#include <filesystem>
#include <future>
#include <thread>

#include <spdlog/spdlog.h>

#include "http/health.hpp"
#include "http/http_server.hpp"
#include "mqtt/mqtt_client.hpp"
#include "pipeline/spool.hpp"
#include "service/daemon_support.hpp"
#include "service/dashboard_api.hpp"
#include "service/hub_metrics.hpp"
#include "service/ingest_worker.hpp"
#include "service/outbox.hpp"
#include "util/logging.hpp"
#include "util/signals.hpp"
#include "util/systemd.hpp"
#include "util/time_zone.hpp"

namespace energyhub {

namespace {

constexpr auto kDisconnectTimeout = std::chrono::milliseconds(2000);
constexpr auto kDrainDeadline = std::chrono::milliseconds(15000);
constexpr std::size_t kOutboxCapacity = 100'000;

// The outbox's way out: the MQTT client, which waits when too much is in flight.
class PacedPublisher final : public MessageSink {
public:
    explicit PacedPublisher(MqttClient& mqtt) : mqtt_(mqtt) {}
    void publish(const std::string& topic, std::string_view payload, int qos, bool retained) override {
        mqtt_.publish_paced(topic, payload, qos, retained);
    }

private:
    MqttClient& mqtt_;
};

}  // namespace

int run_hub(const Config& config, const std::string& config_path) {
    auto log = spdlog::get("energyhub");
    ShutdownSignals signals;  // before any thread starts, so all inherit the mask
    // Tasmota's Time is local: converted with the process's zone, set before any thread starts.
    if (!config.mqtt.tasmota_timezone.empty()) set_process_time_zone(config.mqtt.tasmota_timezone);

    const auto state = std::filesystem::path(config.hub.state_dir);
    Spool spool(state / "spool", config.hub.spool_segment_bytes, config.hub.spool_max_bytes);
    IngestMetrics metrics;
    const Clock& clock = SystemClock::instance();

    // The session store also keeps QoS-1 messages Paho queues before the callback takes them.
    MqttClient mqtt(config.mqtt, "hub", (state / "mqtt-session").string());
    // The only work done on Paho's thread: one write to the spool. The daemons' own status topics
    // match device filters such as Shelly's "+/status/+", and are never readings.
    const std::string own_status = config.mqtt.status_prefix + "/";
    mqtt.on_message([&](std::string_view topic, std::string_view payload, bool retained) {
        if (topic.substr(0, own_status.size()) == own_status) return;
        spool.append(clock.now_ms(), topic, payload, retained ? kSpoolRetained : 0);
    });
    // With a share group, the hubs of the group split the stream: each message goes to one of them.
    auto shared = [&](const std::string& filter) {
        return config.mqtt.share_group.empty() ? filter : "$share/" + config.mqtt.share_group + "/" + filter;
    };
    mqtt.subscribe(shared(config.mqtt.reading_topic), config.mqtt.qos);
    for (const auto& t : config.mqtt.device_topics) mqtt.subscribe(shared(t.filter), config.mqtt.qos);  // Tasmota, Shelly

    PacedPublisher paced(mqtt);
    Outbox outbox(paced, kOutboxCapacity);
    IngestWorker worker(config, spool, outbox, metrics, clock);
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
    auto http = start_http(
        config.http, config.http.listen, health,
        [&] { return render_hub_metrics(metrics, spool.stats(), mqtt, outbox.dropped()); },
        [&](HttpServer& server) { add_dashboard_routes(server, config); });

    log->info("hub starting: subscribing {} with QoS {}, spool {}", config.mqtt.reading_topic, config.mqtt.qos,
              (state / "spool").string());
    if (!config.hub.partition.empty()) log->info("handling the devices of partition {}", config.hub.partition);
    std::atomic<bool> stopping{false};
    DaemonHooks hooks;
    hooks.log = log;
    hooks.config_path = config_path;
    hooks.ready_status = "receiving readings";
    hooks.reload = [&](const Config& fresh) {
        worker.reload_thresholds(std::make_shared<const ThresholdsConfig>(fresh.thresholds));
    };
    hooks.alive = [&] { return health.alive().status == 200; };
    serve_until_stopped(signals, mqtt, stopping, hooks);

    // Take nothing more (a message arriving now stays unacknowledged, for the next start), store
    // everything that was spooled, then leave the broker.
    spool.close();
    worker.stop(kDrainDeadline);
    ingest.join();
    if (http) http->stop();
    log->info("hub stopped: received={} stored={} duplicates={} rejected={}", metrics.received.load(),
              metrics.stored.load(), metrics.duplicates.load(), metrics.rejected_total());
    const int code = failed ? 1 : 0;
    // Paho's thread may be parked in the callback on the closed spool, holding the client's lock:
    // a clean disconnect is tried for a bounded time, and otherwise the process just ends (the
    // broker publishes the last will, and keeps the unacknowledged message for the next start).
    auto left = std::make_shared<std::promise<void>>();
    auto leaving = left->get_future();
    std::thread([&outbox, &mqtt, left] {
        outbox.close(kDisconnectTimeout);
        mqtt.disconnect(kDisconnectTimeout);
        left->set_value();
    }).detach();
    const bool clean = leaving.wait_for(kDisconnectTimeout + std::chrono::milliseconds(500)) == std::future_status::ready;
    if (!clean || spool.parked_appenders() > 0) {
        // Destroying the client would wait for that thread forever; everything is stored or still
        // unacknowledged at the broker, so the process can simply end.
        if (!clean) log->warn("left the broker without a clean disconnect (a message was arriving as the spool closed)");
        spdlog::shutdown();
        std::_Exit(code);
    }
    return code;
}

}  // namespace energyhub
