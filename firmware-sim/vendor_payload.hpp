#pragma once
// Payloads of real smart-plug firmware for the simulated devices, built like the native one into a
// caller-owned buffer (no allocation per message):
//   tasmota  tele/<device>/SENSOR          {"Time":..., "ENERGY":{"Total" kWh, "Power" W, ...}}
//   shelly   <device>/status/switch:0      Shelly Gen2 switch status (apower W, aenergy.total Wh)
// A simulated Tasmota device keeps its clock in UTC (Tasmota's "Timezone 0"): a hub configured with
// mqtt.tasmota_timezone: UTC stores its Time exactly; without a zone the hub uses its receive time.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "profiles.hpp"

namespace energyhub::sim {

enum class Format { native, tasmota, shelly };

// "native", "tasmota", "shelly", or "mixed" (device i speaks format i % 3 in that order).
std::optional<Format> format_of(std::string_view option, std::uint64_t device_index);

// native: <native_prefix>/<device>/reading; the vendor formats: their firmware's default topics.
std::string topic_for(Format format, std::string_view native_prefix, std::string_view device_id);

constexpr std::size_t kVendorPayloadCapacity = 512;
using VendorBuffer = std::array<char, kVendorPayloadCapacity>;

// What a vendor payload reports beyond the model's sample: daily counters (Tasmota's Today and
// Yesterday, by UTC day) and the last three minutes' energy (Shelly's by_minute).
struct VendorState {
    bool started = false;
    std::int64_t counter_start_ms = 0;  // TotalStartTime
    std::int64_t day = 0;               // UTC day of day_start_wh
    double day_start_wh = 0;
    double yesterday_wh = 0;
    std::int64_t minute = 0;  // minute of minute_start_wh, since the epoch
    double minute_start_wh = 0;
    std::array<double, 3> by_minute_mwh{};
};

std::string_view format_tasmota(VendorBuffer& buffer, std::int64_t ts_ms, const Sample& sample, VendorState& state);
std::string_view format_shelly(VendorBuffer& buffer, std::int64_t ts_ms, const Sample& sample, VendorState& state);

}  // namespace energyhub::sim
