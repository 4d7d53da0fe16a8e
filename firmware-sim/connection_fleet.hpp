#pragma once
// Many MQTT connections driven by one thread: non-blocking sockets under epoll, the packets of
// mqtt_wire.hpp, so a simulator can be a fleet of thousands of devices each with its own connection
// (a Paho client costs threads and a connection lock each). Plain TCP only.
//
// Every publish ends acknowledged (QoS 1: PUBACK; QoS 0: handed to a connected socket) or counted
// failed: refused for lack of room, lost with its connection, or unconfirmed after 30 s. Connections
// open at most `connect_rate` per second; a lost or refused one is tried again after a backoff
// (1 s doubling to 30 s, with jitter). Publishes due while a connection is down wait for it in a
// bounded buffer, as a device's firmware would.
#include <memory>
#include <vector>

#include "fleet.hpp"
#include "mqtt_wire.hpp"
#include "publisher.hpp"

namespace energyhub::sim {

class AckLog;

class ConnectionFleet {
public:
    // One connection per login; devices[i] publish over logins[i]. acked_log may be null; stop must
    // outlive the fleet. Throws std::runtime_error for a URI it cannot use (TLS) or not enough file
    // descriptors.
    ConnectionFleet(const PublishOptions& options, std::vector<wire::Login> logins,
                    std::vector<std::vector<DeviceSpec>> devices, AckLog* acked_log, const StopRequest& stop);
    ~ConnectionFleet();
    ConnectionFleet(const ConnectionFleet&) = delete;
    ConnectionFleet& operator=(const ConnectionFleet&) = delete;

    // Opens every connection (at the connect rate) and waits until each is up or was refused
    // once. Throws std::runtime_error with the broker's answer when none came up.
    void connect();

    // Publishes on the schedule of PublishOptions (all devices at `rate`, or as fast as each
    // connection's window allows with rate 0), waits for the outstanding acknowledgements,
    // disconnects.
    PublishStats run();

    // True for the URIs this engine serves: tcp:// and mqtt://.
    static bool serves(const std::string& uri);

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace energyhub::sim
