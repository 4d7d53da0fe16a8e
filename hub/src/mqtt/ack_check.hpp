#pragma once
// The hub's no-loss guarantee at QoS 1 rests on one behaviour of the Paho library it is linked
// against: the PUBACK for an incoming QoS-1 message leaves only after the message callback returned
// (the callback is where the message reaches the spool). Older Paho versions, and Paho C++'s
// consumer queue, answer first. The hub checks this at start, not by version number but by
// watching: AckProbeServer is a one-connection MQTT 3.1.1 server on loopback that speaks just
// enough of the protocol (CONNECT, SUBSCRIBE, PUBLISH in both directions, PING) to hand the client
// one QoS-1 message and see when its PUBACK arrives.
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "config/config.hpp"

namespace energyhub {

struct AckCheckResult {
    bool ack_seen = false;           // the client acknowledged the message in time
    bool callback_returned = false;  // ... and the callback had returned when the PUBACK came
    bool after_callback() const { return ack_seen && callback_returned; }
    std::string detail;  // what happened, for the log
};

class AckProbeServer {
public:
    static constexpr const char* kTopic = "energyhub/ack-check";

    // Listens on 127.0.0.1, an ephemeral port. `callback_returned` is read when the PUBACK arrives.
    explicit AckProbeServer(std::function<bool()> callback_returned);
    ~AckProbeServer();
    AckProbeServer(const AckProbeServer&) = delete;
    AckProbeServer& operator=(const AckProbeServer&) = delete;

    int port() const { return port_; }
    std::string uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

    // Waits until the PUBACK came, the client left, or `timeout` passed.
    AckCheckResult wait(std::chrono::milliseconds timeout);

private:
    void serve();

    std::function<bool()> callback_returned_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<bool> done_{false};
    AckCheckResult result_;  // written by the server thread until done_
    std::thread thread_;
};

// The subscription QoS the hub may use: `configured`, except that QoS 1 is kept only when `check`
// sees the PUBACK after the callback; otherwise QoS 2 (which the broker must upgrade QoS-1 readings
// to: upgrade_outgoing_qos), said in one line.
int safe_subscription_qos(int configured, const std::function<AckCheckResult()>& check);

// Runs the probe against Paho as the hub configures it (session store in `session_dir`,
// which is removed afterwards), its callback taking `hold` before it returns.
AckCheckResult check_ack_after_callback(const MqttConfig& config, const std::string& session_dir,
                                        std::chrono::milliseconds hold = std::chrono::milliseconds(100));

}  // namespace energyhub
