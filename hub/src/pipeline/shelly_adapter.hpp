#pragma once
// Shelly Gen2 and Gen3 devices (Plus, Pro, Mini) over MQTT, with the device's topic prefix as the
// device id (the default prefix is the device id, e.g. "shellyplus2pm-c4d8d5500a10"):
//   <device>/status/switch:<n>   full component status when "generic status update" is enabled
//   <device>/events/rpc          NotifyStatus (changes only) and NotifyFullStatus frames
//   <device>/online              "true" / "false" (the device's last will)
// Metered components are switch:<n>, pm1:<n> and cover:<n>: apower W, voltage V, current A,
// aenergy.total Wh (ret_aenergy.total: returned, where the firmware reports it). Component <n> is
// stored as the sub-device "<device>:<n>" (Shelly numbers its channels from 0), also on
// single-channel devices, so a device reads the same whichever firmware features it has.
//
// Energy meters:
//   em:0      a three-phase meter (Pro 3EM): total_act_power W and total_current A are the
//             device's own reading, a_/b_/c_ act_power, voltage, current its phases "<device>:0",
//             ":1", ":2" (the numbering of the same clamps as em1:0..2 in the meter's monophase
//             profile, and of a Gen1 3EM's emeter/0..2)
//   emdata:0  its counters, Wh: total_act / total_act_ret (import / export) for the device,
//             a_total_act_energy / a_total_act_ret_energy... for the phases
//   em1:<n>   one clamp of a Pro EM, EM Gen3 or a Pro 3EM in monophase: act_power, voltage,
//             current, as "<device>:<n>"
//   em1data:<n>  its counters total_act_energy / total_act_ret_energy, Wh
// The live values and the counters arrive in separate messages: each reading carries the other's
// last known values, so every reading of a meter has both once both have been seen.
// Other components (sys, wifi, input:0, temperature:0...) are ignored, as is a switch without a
// meter (no apower and no aenergy).
//
// NotifyStatus carries only what changed; it is merged onto the last known status of the
// component (a bounded cache: an evicted or never-seen component starts empty). A full status or
// NotifyFullStatus replaces it.
//
// Time: NotifyStatus frames carry params.ts (Unix seconds, UTC); status messages carry no time of
// their own (aenergy.minute_ts is the start of the by_minute window, not the time of the
// measurement), so they are dated by the hub's receive time.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pipeline/json_input.hpp"
#include "pipeline/payload_adapter.hpp"
#include "util/lru_cache.hpp"

namespace energyhub {

constexpr std::size_t kShellyComponentCache = 4096;

class ShellyAdapter final : public PayloadAdapter {
public:
    explicit ShellyAdapter(ParserLimits limits, std::size_t cache_entries = kShellyComponentCache);

    PayloadFormat format() const override { return PayloadFormat::shelly; }
    std::optional<Reject> decode(std::string_view topic, const TopicFilter::Match& where, std::string_view payload,
                                 const DecodeContext& ctx, DecodedMessage& out) override;

    std::size_t cached() const { return cache_.size(); }

private:
    using Component = Measurements;
    enum class Merge { replace, overlay };
    // What one component status says about up to four sub-devices (a meter and its phases).
    struct Parsed {
        static constexpr std::size_t kSlots = 4;  // the device or channel, or a meter and its 3 phases
        std::array<Component, kSlots> fresh{};
        std::array<bool, kSlots> touched{};
        unsigned owns = 0;  // the field groups (Group) this component reports
    };

    std::optional<Reject> status(std::string_view device, std::string_view component, std::string_view payload,
                                 const DecodeContext& ctx, DecodedMessage& out);
    std::optional<Reject> rpc(std::string_view device, std::string_view payload, const DecodeContext& ctx,
                              DecodedMessage& out);
    // Reads one component status object and merges it into the cache; adds a reading for each
    // sub-device it names that has power or energy.
    std::optional<Reject> component(std::string_view device, std::string_view name, simdjson::dom::element value,
                                    Merge merge, std::int64_t ts_ms, const DecodeContext& ctx, DecodedMessage& out);
    std::optional<Reject> apply(const std::string& id, const Component& fresh, unsigned owns, Merge merge,
                                std::int64_t ts_ms, const DecodeContext& ctx, DecodedMessage& out);

    ParserLimits limits_;
    JsonInput json_;
    LruCache<std::string, Component> cache_;  // sub-device id -> last known status
    std::string key_;
};

}  // namespace energyhub
