#pragma once
#include <string>
#include <string_view>

namespace energyhub {

// User and device ids: [A-Za-z0-9_.-]{1,64}. Channels of multi-channel devices add ":<n>".
constexpr std::size_t kMaxIdLength = 64;

constexpr bool is_id_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

constexpr bool is_valid_id(std::string_view id) {
    if (id.empty() || id.size() > kMaxIdLength) return false;
    for (char c : id) {
        if (!is_id_char(c)) return false;
    }
    return true;
}

// A channel of a multi-channel device is the sub-device "<device_id>:<channel>" (a Shelly 2PM's
// "switch:1", a Tasmota meter's second Power value). The registry knows only the device; readings,
// state topics and alerts use the sub-device id. Channels are 0..kMaxChannel, written without
// leading zeros.
constexpr unsigned kMaxChannel = 63;

constexpr bool is_valid_channel(std::string_view channel) {
    if (channel.empty() || channel.size() > 2 || (channel.size() > 1 && channel[0] == '0')) return false;
    unsigned n = 0;
    for (char c : channel) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + static_cast<unsigned>(c - '0');
    }
    return n <= kMaxChannel;
}

// The registered device a (sub-)device id belongs to: "plug-1:2" -> "plug-1", "plug-1" -> "plug-1".
constexpr std::string_view parent_device_id(std::string_view id) {
    auto colon = id.find(':');
    return colon == std::string_view::npos ? id : id.substr(0, colon);
}

// Writes the id of a device's channel, "<device_id>:<channel>", into out (reused by callers that
// look many channels up) and returns it.
inline std::string& assign_channel_id(std::string& out, std::string_view device_id, unsigned channel) {
    return out.assign(device_id).append(":").append(std::to_string(channel));
}

// A device id as readings carry it: a registry id, optionally with ":<channel>".
constexpr bool is_valid_reading_device_id(std::string_view id) {
    auto colon = id.find(':');
    if (colon == std::string_view::npos) return is_valid_id(id);
    return is_valid_id(id.substr(0, colon)) && is_valid_channel(id.substr(colon + 1));
}

}  // namespace energyhub
