#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace energyhub {

// Where the worker's outgoing messages go (the hub's MQTT client; a recorder in tests).
class MessageSink {
public:
    virtual ~MessageSink() = default;
    virtual void publish(const std::string& topic, std::string_view payload, int qos, bool retained) = 0;
    // An event someone is waiting for (an alert), QoS 1, not retained: a sink that queues sends it
    // ahead of state and announcements.
    virtual void publish_event(const std::string& topic, std::string_view payload) {
        publish(topic, payload, 1, false);
    }
    // Messages accepted and not yet handed on: what may wait for a quieter moment checks it.
    virtual std::size_t backlog() const { return 0; }
    // How often the sink has reconnected. A broker that crashed restarts from its last save, so
    // what it retains may be older than what was published: announcements are made again.
    virtual std::uint64_t reconnects() const { return 0; }
};

}  // namespace energyhub
