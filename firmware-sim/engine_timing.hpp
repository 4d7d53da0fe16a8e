#pragma once

#include <chrono>

// The timing both publishing engines keep alike: publisher.cpp (a Paho client per thread) and
// connection_fleet.cpp (one event loop over many sockets).
namespace energyhub::sim {

inline constexpr auto kConnectTimeout = std::chrono::seconds(10);
inline constexpr auto kReconnectMin = std::chrono::seconds(1);
// A publish still unconfirmed after this long counts as failed, so a connection that lost its
// in-flight messages cannot hold the window shut for the rest of the run.
inline constexpr auto kAckTimeout = std::chrono::seconds(30);
// The least time between two warnings of a kind: a broker outage is a line every few seconds.
inline constexpr auto kWarnInterval = std::chrono::seconds(5);

}  // namespace energyhub::sim
