#pragma once
// A Paho async client set up the way every energyhub daemon needs it: fixed client id and a
// persistent session, automatic reconnect with resubscription, a retained online/offline status
// with a last will, and a session store on disk. Publishing never blocks the caller.
//
// Messages are handed to the callback on Paho's own thread, one at a time. With QoS 2 the library
// keeps each incoming message in the session store until the callback has returned, so a callback
// that makes the message durable closes the window in which a crash could lose it.
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "util/probe.hpp"

namespace mqtt {
class async_client;
class delivery_token;
class iaction_listener;
}

namespace energyhub {

class SessionStore;

class MqttClient {
public:
    // `retained`: the broker replayed a retained message to a new subscription (not a live one).
    using MessageHandler = std::function<void(std::string_view topic, std::string_view payload, bool retained)>;

    // `daemon` names the status topic (<status_prefix>/<daemon>). `session_dir` holds Paho's
    // session store; empty means none (only for clients that do not subscribe with QoS 2).
    MqttClient(const MqttConfig& config, std::string daemon, const std::string& session_dir);
    ~MqttClient();

    // Must be set before connect(). The handler must not throw.
    void on_message(MessageHandler handler) { handler_ = std::move(handler); }
    void subscribe(std::string filter, int qos) { subscriptions_.push_back({std::move(filter), qos, nullptr}); }
    // Must be set before connect(). Runs on Paho's thread after each connection (the first and every
    // reconnect) has renewed the subscriptions; must not block or throw.
    void on_connected(std::function<void()> handler) { connected_handler_ = std::move(handler); }

    // One connection with a throwaway clean session, as check-config --connect makes it.
    static Probe probe(const MqttConfig& config);

    // Connects, retrying until it succeeds or `give_up` returns true. Returns whether connected.
    bool connect(const std::function<bool()>& give_up);

    // Queues a message; false if the client refused it (disconnected with a full buffer).
    bool publish(const std::string& topic, std::string_view payload, int qos, bool retained);

    // Like publish(), for a caller that may publish in bursts (one thread only): while connected,
    // first waits until at most kPaceWindow of its messages are still queued in the client. Paho
    // gives every QoS>0 message an id by scanning its whole command queue, so a burst of tens of
    // thousands queued at once costs quadratic time; a short queue keeps the cost per message flat.
    bool publish_paced(const std::string& topic, std::string_view payload, int qos, bool retained);

    // Publishes "offline", then disconnects.
    void disconnect(std::chrono::milliseconds timeout);

    bool connected() const;
    std::uint64_t reconnects() const { return reconnects_.load(); }
    std::uint64_t publish_failures() const { return publish_failures_.load(); }

private:
    struct Subscription {
        std::string filter;
        int qos;
        std::shared_ptr<mqtt::iaction_listener> listener;  // must outlive the request
    };
    void resubscribe();
    std::shared_ptr<mqtt::delivery_token> send(const std::string& topic, std::string_view payload, int qos, bool retained);

    MqttConfig config_;
    std::string status_topic_;
    std::unique_ptr<SessionStore> session_;  // outlives client_
    // These outlive client_ too: Paho may still call back while the client is destroyed (a
    // subscription whose answer never came fails then, and its listener must still be there).
    MessageHandler handler_;
    std::function<void()> connected_handler_;
    std::vector<Subscription> subscriptions_;
    std::unique_ptr<mqtt::async_client> client_;
    std::deque<std::shared_ptr<mqtt::delivery_token>> paced_;  // publish_paced's messages still queued
    std::atomic<std::uint64_t> reconnects_{0};
    std::atomic<std::uint64_t> publish_failures_{0};
    std::atomic<bool> ever_connected_{false};
    // Kept here rather than asked of Paho: while the message callback waits (backpressure) Paho's
    // own lock is held, and a health check must still answer.
    std::atomic<bool> connected_{false};
};

}  // namespace energyhub
