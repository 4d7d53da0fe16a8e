#include "pipeline/shelly_adapter.hpp"

#include <cmath>

#include "domain/ids.hpp"

namespace energyhub {

namespace {

// What a component is: a metered output (switch, pm1, cover), a meter's live values (em, em1) or
// its counters (emdata, em1data), something else, or a component id that is not a channel.
enum class Kind { other, bad_channel, output, em, emdata, em1, em1data };

// "switch:1" -> output, channel 1; "sys" or "input:0" -> other; "switch:x" -> bad_channel.
Kind classify(std::string_view name, unsigned& channel) {
    auto colon = name.find(':');
    if (colon == std::string_view::npos) return Kind::other;
    auto type = name.substr(0, colon), id = name.substr(colon + 1);
    Kind kind;
    if (type == "switch" || type == "pm1" || type == "cover") kind = Kind::output;
    else if (type == "em") kind = Kind::em;
    else if (type == "emdata") kind = Kind::emdata;
    else if (type == "em1") kind = Kind::em1;
    else if (type == "em1data") kind = Kind::em1data;
    else return Kind::other;
    if (!is_valid_channel(id)) return Kind::bad_channel;
    channel = 0;
    for (char c : id) channel = channel * 10 + static_cast<unsigned>(c - '0');
    // A three-phase meter is one component; its phases are channels.
    if ((kind == Kind::em || kind == Kind::emdata) && channel != 0) return Kind::bad_channel;
    return kind;
}

enum Field : unsigned { kPower, kVoltage, kCurrent, kEnergy, kExport, kFields };
enum Group : unsigned { kLive = 1, kCounters = 2 };  // power, voltage, current | energy counters

struct Target {
    std::size_t slot;  // 0: the device or channel (a meter's total); 1..3: phases a..c
    Field field;
};

constexpr std::array<std::string_view, 3> kPhases = {"a_", "b_", "c_"};

// Where a field of a meter component goes; nullopt for fields that are not stored.
std::optional<Target> meter_target(Kind kind, std::string_view key) {
    switch (kind) {
        case Kind::em1:
            if (key == "act_power") return Target{0, kPower};
            if (key == "voltage") return Target{0, kVoltage};
            if (key == "current") return Target{0, kCurrent};
            return std::nullopt;
        case Kind::em1data:
            if (key == "total_act_energy") return Target{0, kEnergy};
            if (key == "total_act_ret_energy") return Target{0, kExport};
            return std::nullopt;
        case Kind::em:
            if (key == "total_act_power") return Target{0, kPower};
            if (key == "total_current") return Target{0, kCurrent};
            for (std::size_t i = 0; i < kPhases.size(); ++i) {
                if (key.substr(0, 2) != kPhases[i]) continue;
                auto rest = key.substr(2);
                if (rest == "act_power") return Target{i + 1, kPower};
                if (rest == "voltage") return Target{i + 1, kVoltage};
                if (rest == "current") return Target{i + 1, kCurrent};
            }
            return std::nullopt;
        case Kind::emdata:
            if (key == "total_act") return Target{0, kEnergy};
            if (key == "total_act_ret") return Target{0, kExport};
            for (std::size_t i = 0; i < kPhases.size(); ++i) {
                if (key.substr(0, 2) != kPhases[i]) continue;
                auto rest = key.substr(2);
                if (rest == "total_act_energy") return Target{i + 1, kEnergy};
                if (rest == "total_act_ret_energy") return Target{i + 1, kExport};
            }
            return std::nullopt;
        default: return std::nullopt;
    }
}

unsigned groups_of(Kind kind) {
    switch (kind) {
        case Kind::em:
        case Kind::em1: return kLive;
        case Kind::emdata:
        case Kind::em1data: return kCounters;
        default: return kLive | kCounters;
    }
}

// The "total" of an aenergy / ret_aenergy object, Wh.
std::optional<Reject> read_energy_object(simdjson::dom::element value, std::optional<double>& total) {
    simdjson::dom::object energy;
    if (value.get_object().get(energy)) return Reject{RejectReason::wrong_type, "aenergy is not an object"};
    for (auto e : energy) {
        std::string_view k = e.key;
        std::optional<double> ignored;
        std::optional<Reject> problem;
        if (k == "total") problem = read_number(e.value, total);
        else if (k == "minute_ts") problem = read_number(e.value, ignored);
        if (problem) return problem;
    }
    return std::nullopt;
}

auto& field_of(auto& c, Field f) {
    switch (f) {
        case kPower: return c.power_w;
        case kVoltage: return c.voltage_v;
        case kCurrent: return c.current_a;
        case kEnergy: return c.energy_wh;
        default: return c.energy_export_wh;
    }
}

}  // namespace

ShellyAdapter::ShellyAdapter(ParserLimits limits, std::size_t cache_entries)
    : limits_(limits), json_(limits.max_payload_bytes), cache_(cache_entries) {}

std::optional<Reject> ShellyAdapter::decode(std::string_view, const TopicFilter::Match& where, std::string_view payload,
                                            const DecodeContext& ctx, DecodedMessage& out) {
    if (!is_valid_id(where.device))
        return Reject{RejectReason::invalid_device_id, "device id must match [A-Za-z0-9_.-]{1,64}"};
    const auto tail = where.tail;
    constexpr std::string_view kStatus = "status/";
    if (tail.substr(0, kStatus.size()) == kStatus && tail.find('/', kStatus.size()) == std::string_view::npos)
        return status(where.device, tail.substr(kStatus.size()), payload, ctx, out);
    if (tail == "events/rpc") return rpc(where.device, payload, ctx, out);
    if (tail == "online") {
        if (payload.size() > limits_.max_payload_bytes) return Reject{RejectReason::payload_too_large, "payload too large"};
        auto online = read_plain_flag(payload, "true", "false");
        if (!online) return Reject{RejectReason::bad_value, "online must be true or false"};
        out.presence = Presence{std::string(where.device), *online};
        return std::nullopt;
    }
    return std::nullopt;  // rpc replies, announcements...: nothing to store
}

std::optional<Reject> ShellyAdapter::status(std::string_view device, std::string_view name, std::string_view payload,
                                            const DecodeContext& ctx, DecodedMessage& out) {
    unsigned channel = 0;
    switch (classify(name, channel)) {
        case Kind::other: return std::nullopt;
        case Kind::bad_channel: return Reject{RejectReason::bad_channel, "component id is not a channel number"};
        default: break;
    }
    simdjson::dom::element root;
    if (auto problem = json_.parse(payload, root)) return problem;
    if (!root.is_object()) return Reject{RejectReason::not_an_object, "payload is not a JSON object"};
    if (deeper_than(root, limits_.max_depth)) return Reject{RejectReason::malformed_json, "payload nests too deeply"};
    return component(device, name, root, Merge::replace, ctx.received_ms, ctx, out);
}

std::optional<Reject> ShellyAdapter::rpc(std::string_view device, std::string_view payload, const DecodeContext& ctx,
                                         DecodedMessage& out) {
    simdjson::dom::element root;
    if (auto problem = json_.parse(payload, root)) return problem;
    simdjson::dom::object frame;
    if (root.get_object().get(frame)) return Reject{RejectReason::not_an_object, "payload is not a JSON object"};
    if (deeper_than(root, limits_.max_depth)) return Reject{RejectReason::malformed_json, "payload nests too deeply"};

    std::string_view method;
    if (frame["method"].get_string().get(method)) return std::nullopt;  // a reply, not a notification
    Merge merge;
    if (method == "NotifyStatus") merge = Merge::overlay;
    else if (method == "NotifyFullStatus") merge = Merge::replace;
    else return std::nullopt;  // NotifyEvent and the like

    simdjson::dom::object params;
    if (frame["params"].get_object().get(params)) return Reject{RejectReason::wrong_type, "params is not an object"};
    std::int64_t ts = ctx.received_ms;
    if (auto t = params["ts"]; !t.error()) {
        double seconds = 0;
        if (t.value_unsafe().is_number()) {
            std::optional<double> d;
            if (read_number(t.value_unsafe(), d)) return Reject{RejectReason::bad_timestamp, "params.ts is not finite"};
            seconds = *d;
        } else {
            return Reject{RejectReason::bad_timestamp, "params.ts is not a number"};
        }
        if (std::fabs(seconds) > 1e11) return Reject{RejectReason::timestamp_out_of_window, "params.ts out of range"};
        ts = std::llround(seconds * 1000.0);
    }
    for (auto field : params) {
        unsigned channel = 0;
        switch (classify(field.key, channel)) {
            case Kind::other: continue;
            case Kind::bad_channel: return Reject{RejectReason::bad_channel, "component id is not a channel number"};
            default: break;
        }
        if (out.readings().size() + Parsed::kSlots > kMaxReadingsPerMessage)
            return Reject{RejectReason::bad_channel, "more channels than supported"};
        if (auto problem = component(device, field.key, field.value, merge, ts, ctx, out)) return problem;
    }
    return std::nullopt;
}

std::optional<Reject> ShellyAdapter::component(std::string_view device, std::string_view name,
                                               simdjson::dom::element value, Merge merge, std::int64_t ts_ms,
                                               const DecodeContext& ctx, DecodedMessage& out) {
    unsigned channel = 0;
    const Kind kind = classify(name, channel);
    simdjson::dom::object object;
    if (value.get_object().get(object)) return Reject{RejectReason::wrong_type, "component status is not an object"};

    Parsed parsed;
    parsed.owns = groups_of(kind);
    std::uint32_t seen = 0;  // one bit per (slot, field), and the top bit for "id"
    constexpr std::uint32_t kIdBit = 1u << 31;
    for (auto field : object) {
        std::string_view key = field.key;
        std::optional<Target> target;
        std::optional<Reject> problem;
        if (key == "id") {
            if (seen & kIdBit) return Reject{RejectReason::duplicate_key, "a known field appears twice"};
            seen |= kIdBit;
            std::optional<double> id;
            if (auto p = read_number(field.value, id)) return p;
            if (*id != static_cast<double>(channel))
                return Reject{RejectReason::bad_channel, "id does not match the component in the topic"};
            continue;
        }
        if (kind == Kind::output) {
            if (key == "apower") target = Target{0, kPower};
            else if (key == "voltage") target = Target{0, kVoltage};
            else if (key == "current") target = Target{0, kCurrent};
            else if (key == "aenergy") target = Target{0, kEnergy};
            else if (key == "ret_aenergy") target = Target{0, kExport};
        } else {
            target = meter_target(kind, key);
        }
        if (!target) continue;
        const std::uint32_t bit = 1u << (target->slot * kFields + target->field);
        if (seen & bit) return Reject{RejectReason::duplicate_key, "a known field appears twice"};
        seen |= bit;
        auto& into = field_of(parsed.fresh[target->slot], target->field);
        if (kind == Kind::output && (target->field == kEnergy || target->field == kExport))
            problem = read_energy_object(field.value, into);
        else
            problem = read_number(field.value, into);
        if (problem) return problem;
        parsed.touched[target->slot] = true;
    }

    const bool meter = kind == Kind::em || kind == Kind::emdata;
    for (std::size_t slot = 0; slot < Parsed::kSlots; ++slot) {
        // A full status of an output speaks for the output even when it has no meter.
        if (!parsed.touched[slot] && !(slot == 0 && !meter)) continue;
        key_.assign(device);
        if (!meter || slot > 0) {
            key_ += ':';
            key_ += std::to_string(meter ? slot - 1 : channel);
        }
        if (auto problem = apply(key_, parsed.fresh[slot], parsed.owns, merge, ts_ms, ctx, out)) return problem;
    }
    return std::nullopt;
}

std::optional<Reject> ShellyAdapter::apply(const std::string& id, const Component& fresh, unsigned owns, Merge merge,
                                           std::int64_t ts_ms, const DecodeContext& ctx, DecodedMessage& out) {
    Component merged;
    if (auto* known = cache_.find(id)) merged = *known;
    for (unsigned f = 0; f < kFields; ++f) {
        const bool live = f == kPower || f == kVoltage || f == kCurrent;
        if (!(owns & (live ? kLive : kCounters))) continue;
        auto& into = field_of(merged, static_cast<Field>(f));
        const auto& from = field_of(fresh, static_cast<Field>(f));
        if (merge == Merge::replace) into = from;  // a full status says what is no longer there
        else if (from) into = from;
    }
    if (!merged.has_measurement()) {  // a switch without a meter
        cache_.put(id, merged);
        return std::nullopt;
    }
    // A meter's live values and counters in one frame (NotifyStatus with em:0 and emdata:0) make
    // one reading per sub-device, not two at the same instant.
    Reading* r = nullptr;
    for (auto& existing : out.readings())
        if (existing.device_id == id && existing.ts_ms == ts_ms) r = &existing;
    const bool added = r == nullptr;
    if (added) {
        r = &out.add_reading();
        r->device_id = id;
        r->ts_ms = ts_ms;
    }
    merged.copy_to(*r);
    // A refused status is not remembered: later changes are not merged onto it.
    if (auto problem = check_reading(*r, ctx, limits_)) {
        if (added) out.drop_last();
        return problem;
    }
    cache_.put(id, merged);
    return std::nullopt;
}

}  // namespace energyhub
