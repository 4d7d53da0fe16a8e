#include "service/hub_daemon.hpp"

#include <filesystem>
#include <future>
#include <thread>

#include <spdlog/spdlog.h>

#include "config/nats_fleet.hpp"
#include "http/health.hpp"
#include "http/http_server.hpp"
#include "mqtt/ack_check.hpp"
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

constexpr auto kHubDisconnectTimeout = std::chrono::milliseconds(2000);
constexpr auto kDrainDeadline = std::chrono::milliseconds(15000);
constexpr std::size_t kOutboxCapacity = 100'000;

// The outbox's way out: the MQTT client, which waits when too much is in flight.
class PacedPublisher final : public MessageSink {
public:
    explicit PacedPublisher(MqttClient& mqtt) : mqtt_(mqtt) {}
    void publish(const std::string& topic, std::string_view payload, int qos, bool retained) override {
        mqtt_.publish_paced(topic, payload, qos, retained);
    }
    std::uint64_t reconnects() const override { return mqtt_.reconnects(); }

private:
    MqttClient& mqtt_;
};

// The hub's parts in the order they start; run_hub walks through its stages.
class HubDaemon {
public:
    HubDaemon(const Config& config, int qos)
        : config_(config),
          qos_(qos),
          state_(config.hub.state_dir),
          spool_(state_ / "spool", config.hub.spool_segment_bytes, config.hub.spool_max_bytes),
          // The session store also keeps QoS-1 messages Paho queues before the callback takes them.
          mqtt_(config.mqtt, "hub", (state_ / "mqtt-session").string()),
          paced_(mqtt_),
          outbox_(paced_, kOutboxCapacity),
          worker_(config, spool_, outbox_, metrics_, clock_) {}

    MqttClient& mqtt() { return mqtt_; }

    // Readings into the spool, the worker after it, then health, metrics and the dashboard.
    void start() {
        subscribe();
        ingest_ = start_guarded(spdlog::get("hub.ingest"), "ingest worker", failed_, [this] { worker_.run(); });
        register_hub_health(health_, metrics_, spool_, mqtt_, !config_.redis.uri.empty());
        http_ = start_http(
            config_.http, config_.http.listen, health_,
            [this] { return render_hub_metrics(metrics_, spool_.stats(), mqtt_, outbox_, qos_); },
            [this](HttpServer& server) { add_dashboard_routes(server, config_); });
        log_->info("hub starting: subscribing {} with QoS {}, spool {}", config_.mqtt.reading_topic, qos_,
                   (state_ / "spool").string());
        if (!config_.hub.partition.empty()) log_->info("handling the devices of partition {}", config_.hub.partition);
    }

    DaemonHooks hooks(const std::string& config_path) {
        DaemonHooks hooks;
        hooks.log = log_;
        hooks.config_path = config_path;
        hooks.ready_status = "receiving readings";
        hooks.reload = [this](const Config& fresh) {
            worker_.reload_thresholds(std::make_shared<const ThresholdsConfig>(fresh.thresholds));
        };
        hooks.alive = [this] { return health_.alive().status == 200; };
        return hooks;
    }

    // Take nothing more (a message arriving now stays unacknowledged, for the next start), store
    // everything that was spooled, then leave the broker. Returns the exit code.
    int stop() {
        spool_.close();
        worker_.stop(kDrainDeadline);
        ingest_.join();
        if (http_) http_->stop();
        log_->info("hub stopped: received={} stored={} duplicates={} rejected={}", metrics_.received.load(),
                   metrics_.stored.load(), metrics_.duplicates.load(), metrics_.rejected_total());
        const int code = failed_ ? 1 : 0;
        if (!leave_broker()) {
            // Destroying the client would wait for Paho's thread forever; everything is stored or
            // still unacknowledged at the broker, so the process can simply end.
            spdlog::shutdown();
            std::_Exit(code);
        }
        return code;
    }

private:
    // The only work done on Paho's thread: one write to the spool. The daemons' own status topics
    // match device filters such as Shelly's "+/status/+", and are never readings. With a share
    // group, the hubs of the group split the stream: each message goes to one of them.
    void subscribe() {
        mqtt_.on_message([this, own_status = config_.mqtt.status_prefix + "/"](
                             std::string_view topic, std::string_view payload, bool retained) {
            if (topic.substr(0, own_status.size()) == own_status) return;
            spool_.append(clock_.now_ms(), topic, payload, retained ? kSpoolRetained : 0);
        });
        const auto& mqtt = config_.mqtt;
        auto shared = [&](const std::string& filter) {
            return mqtt.share_group.empty() ? filter : "$share/" + mqtt.share_group + "/" + filter;
        };
        mqtt_.subscribe(shared(mqtt.reading_topic), qos_);
        for (const auto& t : mqtt.device_topics) mqtt_.subscribe(shared(t.filter), qos_);  // Tasmota, Shelly
    }

    // Paho's thread may be parked in the callback on the closed spool, holding the client's lock:
    // a clean disconnect is tried for a bounded time. False when the process must just end (the
    // broker publishes the last will, and keeps the unacknowledged message for the next start).
    bool leave_broker() {
        auto left = std::make_shared<std::promise<void>>();
        auto leaving = left->get_future();
        std::thread([this, left] {
            outbox_.close(kHubDisconnectTimeout);
            mqtt_.disconnect(kHubDisconnectTimeout);
            left->set_value();
        }).detach();
        const bool clean =
            leaving.wait_for(kHubDisconnectTimeout + std::chrono::milliseconds(500)) == std::future_status::ready;
        if (!clean)
            log_->warn("left the broker without a clean disconnect (a message was arriving as the spool closed)");
        return clean && spool_.parked_appenders() == 0;
    }

    const Config& config_;
    const int qos_;
    const std::filesystem::path state_;
    const Clock& clock_ = SystemClock::instance();
    std::shared_ptr<spdlog::logger> log_ = spdlog::get("energyhub");
    IngestMetrics metrics_;
    Spool spool_;
    MqttClient mqtt_;
    PacedPublisher paced_;
    Outbox outbox_;
    IngestWorker worker_;
    std::atomic<bool> failed_{false};
    std::thread ingest_;
    HealthRegistry health_;
    std::unique_ptr<HttpServer> http_;
};

}  // namespace

int run_hub(const Config& file_config, const std::string& config_path) {
    // On a NATS cluster the broker partitions the devices: this hub subscribes to its partition.
    const Config config = with_broker_partition(file_config);
    if (config.hub.partition != file_config.hub.partition)
        spdlog::get("energyhub")
            ->info("handling the devices of partition {} as mapped by the NATS cluster", file_config.hub.partition);
    ShutdownSignals signals;  // before any thread starts, so all inherit the mask
    // Tasmota's Time is local: converted with the process's zone, set before any thread starts.
    if (!config.mqtt.tasmota_timezone.empty()) set_process_time_zone(config.mqtt.tasmota_timezone);
    // QoS 1 only if this Paho acknowledges after the callback (the spool write): watched, not assumed.
    const int qos = safe_subscription_qos(config.mqtt.qos, [&] {
        return check_ack_after_callback(config.mqtt,
                                        (std::filesystem::path(config.hub.state_dir) / "ack-check").string());
    });
    HubDaemon hub(config, qos);
    hub.start();
    std::atomic<bool> stopping{false};
    serve_until_stopped(signals, hub.mqtt(), stopping, hub.hooks(config_path));
    return hub.stop();
}

}  // namespace energyhub
