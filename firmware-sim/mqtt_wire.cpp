#include "mqtt_wire.hpp"

namespace energyhub::sim::wire {

namespace {

void append_remaining_length(std::string& out, std::size_t n) {
    do {
        auto byte = static_cast<unsigned char>(n % 128);
        n /= 128;
        if (n > 0) byte |= 0x80;
        out.push_back(static_cast<char>(byte));
    } while (n > 0);
}

void append_u16(std::string& out, std::size_t v) {
    out.push_back(static_cast<char>((v >> 8) & 0xff));
    out.push_back(static_cast<char>(v & 0xff));
}

void append_string(std::string& out, std::string_view s) {
    append_u16(out, s.size());
    out.append(s);
}

}  // namespace

void append_connect(std::string& out, const Login& login, std::uint16_t keep_alive_s) {
    std::uint8_t flags = 0x02;  // clean session
    std::size_t length = 10 + 2 + login.client_id.size();
    if (!login.username.empty()) {
        flags |= 0x80;
        length += 2 + login.username.size();
    }
    if (!login.password.empty()) {
        flags |= 0x40;
        length += 2 + login.password.size();
    }
    out.push_back(static_cast<char>(0x10));
    append_remaining_length(out, length);
    append_string(out, "MQTT");
    out.push_back(4);  // protocol level: 3.1.1
    out.push_back(static_cast<char>(flags));
    append_u16(out, keep_alive_s);
    append_string(out, login.client_id);
    if (!login.username.empty()) append_string(out, login.username);
    if (!login.password.empty()) append_string(out, login.password);
}

void append_publish(std::string& out, std::string_view topic, std::string_view payload, int qos,
                    std::uint16_t packet_id) {
    out.push_back(static_cast<char>(0x30 | (qos > 0 ? 0x02 : 0)));
    append_remaining_length(out, 2 + topic.size() + (qos > 0 ? 2 : 0) + payload.size());
    append_string(out, topic);
    if (qos > 0) append_u16(out, packet_id);
    out.append(payload);
}

void append_pingreq(std::string& out) { out.append("\xc0\x00", 2); }

void append_disconnect(std::string& out) { out.append("\xe0\x00", 2); }

Parse next_packet(std::string_view in, Packet& out, std::size_t& consumed) {
    if (in.size() < 2) return Parse::incomplete;
    std::size_t length = 0, at = 1;
    for (unsigned shift = 0;; shift += 7) {
        if (at >= in.size()) return Parse::incomplete;
        if (at > 4) return Parse::malformed;  // at most four length bytes
        const auto byte = static_cast<unsigned char>(in[at++]);
        length += static_cast<std::size_t>(byte & 0x7f) << shift;
        if (!(byte & 0x80)) break;
    }
    if (length > kMaxIncomingPacket) return Parse::malformed;
    if (in.size() - at < length) return Parse::incomplete;
    out.type = static_cast<std::uint8_t>(static_cast<unsigned char>(in[0]) >> 4);
    out.body = in.substr(at, length);
    consumed = at + length;
    return Parse::packet;
}

int connack_code(const Packet& p) {
    if (p.type != connack || p.body.size() != 2) return -1;
    return static_cast<unsigned char>(p.body[1]);
}

std::uint16_t puback_id(const Packet& p) {
    if (p.type != puback || p.body.size() != 2) return 0;
    return static_cast<std::uint16_t>((static_cast<unsigned char>(p.body[0]) << 8) |
                                      static_cast<unsigned char>(p.body[1]));
}

std::string_view connack_reason(int code) {
    switch (code) {
        case 0: return "accepted";
        case 1: return "unacceptable protocol version";
        case 2: return "client identifier rejected";
        case 3: return "server unavailable";
        case 4: return "bad user name or password";
        case 5: return "not authorized";
        default: return "malformed CONNACK";
    }
}

}  // namespace energyhub::sim::wire
