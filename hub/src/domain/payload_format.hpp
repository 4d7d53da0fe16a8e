#pragma once
// The device payload formats the hub understands. Each has an adapter in pipeline/; the config
// names them, and maps each MQTT filter to one of them. No I/O here.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace energyhub {

enum class PayloadFormat : std::uint8_t {
    native,       // energy/<device>/reading, the JSON of DESIGN.md
    tasmota,      // tele/<device>/SENSOR (ENERGY object), STATE, LWT
    shelly,       // Shelly Gen2/Gen3 (Plus, Pro): <device>/status/switch:<n>, events/rpc, online
    shelly_gen1,  // shellies/<device>/relay/<n>/power|energy, online
};
constexpr std::size_t kPayloadFormatCount = 4;

constexpr std::string_view payload_format_name(PayloadFormat f) {
    constexpr std::array<std::string_view, kPayloadFormatCount> names = {"native", "tasmota", "shelly", "shelly_gen1"};
    return names[static_cast<std::size_t>(f)];
}

constexpr std::optional<PayloadFormat> payload_format_from_name(std::string_view name) {
    for (std::size_t i = 0; i < kPayloadFormatCount; ++i) {
        if (payload_format_name(static_cast<PayloadFormat>(i)) == name) return static_cast<PayloadFormat>(i);
    }
    return std::nullopt;
}

// One configured subscription: the hub subscribes to `filter` and decodes what arrives on it as
// `format`. The filter's first '+' level is the device id.
struct DeviceTopic {
    PayloadFormat format = PayloadFormat::native;
    std::string filter;
};

}  // namespace energyhub
