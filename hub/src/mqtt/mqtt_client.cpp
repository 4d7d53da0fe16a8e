#include "mqtt/mqtt_client.hpp"

#include <thread>

#include <mqtt/async_client.h>

#include <spdlog/spdlog.h>
#include "mqtt/paho_settings.hpp"
#include "mqtt/session_store.hpp"
#include "util/redact.hpp"

namespace energyhub {

namespace {

std::shared_ptr<spdlog::logger> mqtt_log() { return spdlog::get("hub.mqtt"); }

// Outgoing messages queued in the client, and in flight to the broker: a batch publishes one state
// message per device at once.
constexpr int kMaxBuffered = 100'000;
constexpr int kMaxInflight = 1'000;

// publish_paced(): messages queued in Paho at most, and how long to wait for the oldest to go out.
constexpr std::size_t kPaceWindow = 256;
constexpr auto kPaceWait = std::chrono::seconds(1);

// With mqtt.receive_maximum the client speaks MQTT 5 for its Receive Maximum. Mosquitto 2.0.11
// does not hold a 3.1.1 client's QoS-2 deliveries to max_inflight_messages: a backlog goes out at
// once, and every PUBREC/PUBREL/PUBCOMP then searches lists as long as the backlog on both sides
// (bench/README.md). v5 ends a session at disconnect unless told otherwise: it is kept for a
// week, as persistent_client_expiration does for 3.1.1 clients.
constexpr int kSessionExpirySeconds = 7 * 24 * 3600;

// Reports the broker's answer to a SUBSCRIBE. Only then do messages on that filter flow, so the
// log line is also what scripts wait for.
class SubscribeListener final : public mqtt::iaction_listener {
public:
    explicit SubscribeListener(std::string filter) : filter_(std::move(filter)) {}
    void on_success(const mqtt::token& tok) override {
        auto codes = tok.get_subscribe_response().get_reason_codes();
        bool granted = codes.empty() || codes.front() < 0x80;
        if (granted)
            mqtt_log()->info("subscribed to {}", filter_);
        else
            mqtt_log()->error("broker refused subscription to {}", filter_);
    }
    void on_failure(const mqtt::token&) override { mqtt_log()->error("subscription to {} failed", filter_); }

private:
    std::string filter_;
};

}  // namespace

MqttClient::MqttClient(const MqttConfig& config, std::string daemon, const std::string& session_dir)
    : config_(config), status_topic_(daemon_status_topic(config, daemon)) {
    if (!session_dir.empty()) session_ = std::make_unique<SessionStore>(session_dir);
    const int version = config_.receive_maximum > 0 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
    client_ = std::make_unique<mqtt::async_client>(paho_uri(broker_uris(config_.uri).front()), config_.client_id,
                                                   daemon_create_options(version, kMaxBuffered), session_.get());
    client_->set_connected_handler([this](const std::string&) {
        connected_ = true;
        if (ever_connected_.exchange(true)) {
            ++reconnects_;
            mqtt_log()->info("reconnected to {}", redact(config_.uri));
        }
        resubscribe();
        publish(status_topic_, "online", 1, true);
        if (connected_handler_) connected_handler_();
    });
    client_->set_connection_lost_handler([this](const std::string& cause) {
        connected_ = false;
        mqtt_log()->warn("connection to {} lost{}{}; reconnecting", redact(config_.uri), cause.empty() ? "" : ": ",
                         cause);
    });
    client_->set_message_callback([this](mqtt::const_message_ptr msg) {
        // Runs on Paho's thread: nothing may escape into the C library.
        try {
            if (handler_) handler_(msg->get_topic(), msg->get_payload_str(), msg->is_retained());
        } catch (const std::exception& e) {
            mqtt_log()->error("message handler failed: {}", e.what());
        }
    });
}

MqttClient::~MqttClient() = default;

void MqttClient::resubscribe() {
    for (auto& s : subscriptions_) {
        try {
            if (!s.listener) s.listener = std::make_shared<SubscribeListener>(s.filter);
            client_->subscribe(s.filter, s.qos, nullptr, *s.listener);
        } catch (const mqtt::exception& e) {
            mqtt_log()->error("subscribe to {} failed: {}", s.filter, e.what());
        }
    }
}

Probe MqttClient::probe(const MqttConfig& config) {
    const auto uris = broker_uris(config.uri);
    Probe probe{false, url_host(uris.front()) + (uris.size() > 1 ? " (and the cluster's other nodes)" : ""), ""};
    try {
        // A throwaway clean session under its own client id: the daemons' sessions are left alone.
        mqtt::async_client client(paho_uri(uris.front()), config.client_id + "-check");
        auto options =
            mqtt::connect_options_builder().clean_session(true).connect_timeout(std::chrono::seconds(5)).finalize();
        std::string tls_error;
        set_broker_options(options, config, [&](const std::string& what) { tls_error = what; });
        try {
            client.connect(options)->wait();
        } catch (const mqtt::exception& e) {
            probe.problem = tls_error.empty() ? e.what() : tls_error;
            return probe;
        }
        client.disconnect()->wait();
        probe.ok = true;
    } catch (const mqtt::exception& e) {
        probe.problem = e.what();
    }
    return probe;
}

bool MqttClient::connect(const std::function<bool()>& give_up) {
    auto options = mqtt::connect_options_builder()
                       .mqtt_version(MQTTVERSION_3_1_1)
                       .clean_session(false)
                       .keep_alive_interval(std::chrono::duration_cast<std::chrono::seconds>(config_.keepalive))
                       .connect_timeout(std::chrono::duration_cast<std::chrono::seconds>(config_.connect_timeout))
                       .automatic_reconnect(std::chrono::seconds(1), std::chrono::seconds(30))
                       .max_inflight(kMaxInflight)
                       .will(mqtt::message(status_topic_, "offline", 1, true))
                       .finalize();
    if (config_.receive_maximum > 0) {
        options.set_mqtt_version(MQTTVERSION_5);
        options.set_clean_start(false);
        options.set_properties({mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL, kSessionExpirySeconds),
                                mqtt::property(mqtt::property::RECEIVE_MAXIMUM, config_.receive_maximum)});
    }
    set_broker_options(options, config_, [](const std::string& what) { mqtt_log()->error("{}", what); });
    // Of a cluster's nodes, the log names the one that answered (in Paho's spelling).
    const bool cluster = broker_uris(config_.uri).size() > 1;
    auto delay = std::chrono::milliseconds(250);
    for (;;) {
        try {
            auto token = client_->connect(options);
            token->wait();
            mqtt_log()->info("connected to {} as {}",
                             redact(cluster ? token->get_connect_response().get_server_uri() : config_.uri),
                             config_.client_id);
            return true;
        } catch (const mqtt::exception& e) {
            mqtt_log()->warn("cannot connect to {}: {}; retrying in {} ms", redact(config_.uri), redact(e.what()),
                             delay.count());
        }
        for (auto waited = std::chrono::milliseconds(0); waited < delay; waited += std::chrono::milliseconds(50)) {
            if (give_up()) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        delay = std::min(delay * 2, std::chrono::milliseconds(5000));
    }
}

std::shared_ptr<mqtt::delivery_token> MqttClient::send(const std::string& topic, std::string_view payload, int qos,
                                                       bool retained) {
    try {
        return client_->publish(topic, payload.data(), payload.size(), qos, retained);
    } catch (const mqtt::exception& e) {
        if (publish_failures_.fetch_add(1) % 1000 == 0) mqtt_log()->warn("publish to {} failed: {}", topic, e.what());
        return nullptr;
    }
}

bool MqttClient::publish(const std::string& topic, std::string_view payload, int qos, bool retained) {
    return send(topic, payload, qos, retained) != nullptr;
}

bool MqttClient::publish_paced(const std::string& topic, std::string_view payload, int qos, bool retained) {
    while (!paced_.empty() && (paced_.front()->is_complete() || paced_.size() >= kPaceWindow)) {
        try {
            if (connected()) paced_.front()->wait_for(kPaceWait);
        } catch (const mqtt::exception&) {
            // the message failed; publish() counts failures, the window only needs it gone
        }
        paced_.pop_front();
        if (!connected()) paced_.clear();  // offline, the client buffers instead (kMaxBuffered)
    }
    auto token = send(topic, payload, qos, retained);
    if (!token) return false;
    paced_.push_back(std::move(token));
    return true;
}

void MqttClient::disconnect(std::chrono::milliseconds timeout) {
    connected_ = false;
    try {
        if (client_->is_connected()) {
            client_->publish(status_topic_, "offline", 1, true)->wait_for(timeout);
            client_->disconnect(static_cast<int>(timeout.count()))->wait_for(timeout);
        }
    } catch (const mqtt::exception& e) {
        mqtt_log()->warn("disconnect: {}", e.what());
    }
}

bool MqttClient::connected() const { return connected_.load(); }

}  // namespace energyhub
