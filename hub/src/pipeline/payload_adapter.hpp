#pragma once
// One interface for every device payload format (native, Tasmota, Shelly Gen2, Shelly Gen1). An
// adapter turns one MQTT message into what the hub stores: readings (one per channel of a
// multi-channel device) and, for formats that report it, whether the device is online.
//
// Outcomes: a Reject with its reason (dead-lettered by the worker), or a DecodedMessage that is
// either empty ("ignored": a message of the format that carries nothing to store, such as a Shelly
// "sys" status or a Tasmota SENSOR of a plug without a meter) or holds readings and/or presence.
// Every reading an adapter returns has passed the same checks as a native one: finite numbers,
// power or energy present, a counter that is not negative, a time inside the accepted window.
//
// Adapters run on the ingest worker's thread only; they may keep small bounded caches (the
// Shelly component status that partial updates are merged onto).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/payload_format.hpp"
#include "domain/reading.hpp"
#include "domain/topic_filter.hpp"
#include "pipeline/reject.hpp"

namespace energyhub {

struct ParserLimits {
    std::size_t max_payload_bytes = 16 * 1024;
    std::int64_t backfill_window_ms = 7 * 86'400'000LL;  // oldest accepted reading, before now
    std::int64_t future_tolerance_ms = 5 * 60'000LL;     // newest accepted reading, after now
    std::size_t max_depth = 16;                          // nesting allowed in ignored fields
};

// The most readings one message may produce (a Tasmota meter with per-channel arrays plus its
// device total). Batches always have room for this many.
constexpr std::size_t kMaxReadingsPerMessage = 17;

struct DecodeContext {
    std::int64_t received_ms = 0;  // when the hub received the message: the time of undated readings
    std::int64_t now_ms = 0;       // the accepted time window is centred here
};

// What an adapter remembers of a (sub-)device whose values arrive in separate messages (Shelly's
// live values and counters, Gen1's one value per topic): each reading carries them all.
struct Measurements {
    std::optional<double> power_w, voltage_v, current_a, energy_wh, energy_export_wh;

    bool has_measurement() const { return power_w || energy_wh || energy_export_wh; }
    void copy_to(Reading& r) const {
        r.power_w = power_w;
        r.voltage_v = voltage_v;
        r.current_a = current_a;
        r.energy_wh = energy_wh;
        r.energy_export_wh = energy_export_wh;
    }
};

struct Presence {
    std::string device_id;  // the registered device (never a channel)
    bool online = false;
};

class DecodedMessage {
public:
    void clear() {
        used_ = 0;
        presence.reset();
    }

    // A cleared reading that becomes part of the message; storage is reused between messages.
    Reading& add_reading() {
        if (used_ == slots_.size()) slots_.emplace_back();
        auto& r = slots_[used_++];
        r.device_id.clear();
        r.ts_ms = 0;
        r.power_w.reset();
        r.energy_wh.reset();
        r.energy_export_wh.reset();
        r.voltage_v.reset();
        r.current_a.reset();
        return r;
    }
    void drop_last() { --used_; }
    void drop_readings() { used_ = 0; }

    std::span<const Reading> readings() const { return {slots_.data(), used_}; }
    std::span<Reading> readings() { return {slots_.data(), used_}; }
    bool empty() const { return used_ == 0 && !presence; }

    std::optional<Presence> presence;

private:
    std::vector<Reading> slots_;
    std::size_t used_ = 0;
};

class PayloadAdapter {
public:
    virtual ~PayloadAdapter() = default;
    virtual PayloadFormat format() const = 0;

    // `where` is what the subscription filter of this format captured from `topic`. On success
    // `out` (cleared by the caller) holds what the message carries, and the result is nullopt.
    virtual std::optional<Reject> decode(std::string_view topic, const TopicFilter::Match& where,
                                         std::string_view payload, const DecodeContext& ctx, DecodedMessage& out) = 0;
};

}  // namespace energyhub
