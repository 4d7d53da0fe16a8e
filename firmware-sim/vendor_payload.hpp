#pragma once
// Payloads of real smart-plug firmware for the simulated devices, built like the native one into a
// caller-owned buffer (no allocation per message):
//   tasmota  tele/<device>/SENSOR          {"Time":..., "ENERGY":{"Total" kWh, "Power" W, ...}}
//   shelly   <device>/status/switch:0      Shelly Gen2 switch status (apower W, aenergy.total Wh)
// and for the "house" profile (house.hpp) a whole-home three-phase meter in each format:
//   native   energy/<device>/reading        power_w (net), energy_wh (import), energy_export_wh
//   tasmota  tele/<device>/SENSOR           Total as a net register, ExportActive, Power... per phase
//   shelly   <device>/events/rpc            a Shelly Pro 3EM's NotifyStatus with em:0 and emdata:0
// A simulated Tasmota device keeps its clock in UTC (Tasmota's "Timezone 0"): a hub configured with
// mqtt.tasmota_timezone: UTC stores its Time exactly; without a zone the hub uses its receive time.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "house.hpp"
#include "profiles.hpp"

namespace energyhub::sim {

enum class Format { native, tasmota, shelly };

// "native", "tasmota", "shelly", or "mixed" (device i speaks format i % 3 in that order).
std::optional<Format> format_of(std::string_view option, std::uint64_t device_index);

// native: <native_prefix>/<device>/reading; the vendor formats: their firmware's default topics,
// for a plug or, with `meter`, for a whole-home meter.
std::string topic_for(Format format, std::string_view native_prefix, std::string_view device_id, bool meter = false);

constexpr std::size_t kVendorPayloadCapacity = 1024;
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

// A whole-home meter's reading in `format`; `device_id` is what a Shelly names as its source.
std::string_view format_house(Format format, VendorBuffer& buffer, std::string_view device_id, std::int64_t ts_ms,
                              const HouseSample& sample, VendorState& state);

}  // namespace energyhub::sim
