#pragma once
// The few MQTT 3.1.1 packets a publishing device needs, written into and read from plain byte
// buffers, so that one thread can drive thousands of connections (connection_fleet.hpp). Only what
// a publisher meets is read: CONNACK, PUBACK, PINGRESP; other packets are skipped whole.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace energyhub::sim::wire {

enum PacketType : std::uint8_t { connack = 2, puback = 4, pingresp = 13 };

// The largest packet a publisher accepts from the broker; anything longer is a broken stream.
constexpr std::size_t kMaxIncomingPacket = 64 * 1024;

struct Login {
    std::string client_id;
    std::string username;  // empty: none
    std::string password;  // empty: none
};

// CONNECT with a clean session.
void append_connect(std::string& out, const Login& login, std::uint16_t keep_alive_s);
// PUBLISH at QoS 0 (packet_id unused) or 1, not retained.
void append_publish(std::string& out, std::string_view topic, std::string_view payload, int qos,
                    std::uint16_t packet_id);
void append_pingreq(std::string& out);
void append_disconnect(std::string& out);

struct Packet {
    std::uint8_t type = 0;  // the fixed header's upper four bits
    std::string_view body;  // what follows the fixed header
};

enum class Parse { packet, incomplete, malformed };

// The first complete packet of `in`; `consumed` is its length. Never reads past `in`.
Parse next_packet(std::string_view in, Packet& out, std::size_t& consumed);

// CONNACK: the return code (0 accepted, 4 bad user name or password, 5 not authorized...), or -1
// for a malformed one.
int connack_code(const Packet& p);
// PUBACK: the packet id, or 0 for a malformed one (0 is never a valid id).
std::uint16_t puback_id(const Packet& p);

// The broker's words for a CONNACK return code.
std::string_view connack_reason(int code);

}  // namespace energyhub::sim::wire
