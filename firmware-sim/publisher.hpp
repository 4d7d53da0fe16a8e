#pragma once
// One MQTT client and the devices it publishes for. Each publisher runs on its own thread and owns
// everything it touches except the shared acked log.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "device_feed.hpp"
#include "fleet.hpp"

namespace energyhub::sim {

class AckLog;

struct PublishOptions {
    std::string uri;
    std::string username;
    std::string password;
    energyhub::TlsConfig tls;  // for ssl:// and mqtts:// URIs
    FeedOptions feed;          // topics, formats and models of the devices
    int qos = 1;
    double rate = 1;              // readings per second per device; 0 = as fast as the window allows
    double duration_s = 0;        // 0 = no time limit
    std::uint64_t count = 0;      // readings per device; 0 = no count limit
    std::int64_t history_ms = 0;  // first publish the past this long, every history_step_ms
    std::int64_t history_step_ms = 900'000;
    int max_inflight = 1000;     // unconfirmed messages per client; bounds memory at QoS 1
    double connect_rate = 1000;  // new connections per second (the event loop over many connections)
    std::chrono::milliseconds drain_timeout{10'000};
};

struct PublishStats {
    std::uint64_t sent = 0;    // handed to the client, including those it refused
    std::uint64_t acked = 0;   // QoS 1: PUBACK received; QoS 0: written to the socket
    std::uint64_t failed = 0;  // refused, failed, or unconfirmed past the acknowledgement timeout

    PublishStats& operator+=(const PublishStats& other) {
        sent += other.sent;
        acked += other.acked;
        failed += other.failed;
        return *this;
    }
};

// Set from a signal handler: 1 = stop publishing and wait for acknowledgements, 2 = stop waiting.
using StopRequest = std::atomic<int>;

class Publisher {
public:
    // acked_log may be null. stop must outlive the publisher.
    Publisher(std::string client_id, const PublishOptions& options, std::vector<DeviceSpec> devices, AckLog* acked_log,
              const StopRequest& stop);
    ~Publisher();
    Publisher(const Publisher&) = delete;
    Publisher& operator=(const Publisher&) = delete;

    // Connecting is split so that all clients connect at once: the client library waits up to
    // two seconds per new connection, which adds up when the clients take turns.
    void start_connect();
    // Waits for the broker's answer; throws std::runtime_error with it when the connection failed.
    void finish_connect();

    // Publishes until the duration or count is reached or a stop is requested, waits for the
    // outstanding acknowledgements, disconnects. Pacing is counted from start, shared by all
    // publishers. Never throws: it runs on its own thread.
    PublishStats run(std::chrono::steady_clock::time_point start);

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace energyhub::sim
