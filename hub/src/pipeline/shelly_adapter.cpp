#include "pipeline/shelly_adapter.hpp"

#include <cmath>

#include "domain/ids.hpp"

namespace energyhub {

namespace {

enum class ComponentKind { other, metered, bad_channel };

// "switch:1" -> metered, channel 1; "sys" or "input:0" -> other; "switch:x" -> bad_channel.
ComponentKind classify(std::string_view name, unsigned& channel) {
    auto colon = name.find(':');
    if (colon == std::string_view::npos) return ComponentKind::other;
    auto type = name.substr(0, colon), id = name.substr(colon + 1);
    if (type != "switch" && type != "pm1" && type != "cover") return ComponentKind::other;
    if (!is_valid_channel(id)) return ComponentKind::bad_channel;
    channel = 0;
    for (char c : id) channel = channel * 10 + static_cast<unsigned>(c - '0');
    return ComponentKind::metered;
}

void overlay(std::optional<double>& into, const std::optional<double>& from) {
    if (from) into = from;
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
        case ComponentKind::other: return std::nullopt;
        case ComponentKind::bad_channel: return Reject{RejectReason::bad_channel, "component id is not a channel number"};
        case ComponentKind::metered: break;
    }
    simdjson::dom::element root;
    if (auto problem = json_.parse(payload, root)) return problem;
    if (!root.is_object()) return Reject{RejectReason::not_an_object, "payload is not a JSON object"};
    if (deeper_than(root, limits_.max_depth)) return Reject{RejectReason::malformed_json, "payload nests too deeply"};
    return component(device, channel, root, Merge::replace, ctx.received_ms, ctx, out);
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
            case ComponentKind::other: continue;
            case ComponentKind::bad_channel:
                return Reject{RejectReason::bad_channel, "component id is not a channel number"};
            case ComponentKind::metered: break;
        }
        if (out.readings().size() == kMaxReadingsPerMessage)
            return Reject{RejectReason::bad_channel, "more channels than supported"};
        if (auto problem = component(device, channel, field.value, merge, ts, ctx, out)) return problem;
    }
    return std::nullopt;
}

std::optional<Reject> ShellyAdapter::component(std::string_view device, unsigned channel, simdjson::dom::element value,
                                               Merge merge, std::int64_t ts_ms, const DecodeContext& ctx,
                                               DecodedMessage& out) {
    simdjson::dom::object object;
    if (value.get_object().get(object)) return Reject{RejectReason::wrong_type, "component status is not an object"};

    enum : unsigned { kId = 1, kPower = 2, kVoltage = 4, kCurrent = 8, kEnergy = 16 };
    unsigned seen = 0;
    Component fresh;
    for (auto field : object) {
        std::string_view key = field.key;
        unsigned bit = 0;
        std::optional<Reject> problem;
        if (key == "id") {
            bit = kId;
            std::optional<double> id;
            problem = read_number(field.value, id);
            if (!problem && *id != static_cast<double>(channel))
                problem = Reject{RejectReason::bad_channel, "id does not match the component in the topic"};
        } else if (key == "apower") {
            bit = kPower;
            problem = read_number(field.value, fresh.power_w);
        } else if (key == "voltage") {
            bit = kVoltage;
            problem = read_number(field.value, fresh.voltage_v);
        } else if (key == "current") {
            bit = kCurrent;
            problem = read_number(field.value, fresh.current_a);
        } else if (key == "aenergy") {
            bit = kEnergy;
            simdjson::dom::object energy;
            if (field.value.get_object().get(energy)) {
                problem = Reject{RejectReason::wrong_type, "aenergy is not an object"};
            } else {
                for (auto e : energy) {
                    std::string_view k = e.key;
                    std::optional<double> ignored;
                    if (k == "total") problem = read_number(e.value, fresh.energy_wh);
                    else if (k == "minute_ts") problem = read_number(e.value, ignored);
                    if (problem) break;
                }
            }
        }
        if (bit != 0 && (seen & bit)) return Reject{RejectReason::duplicate_key, "a known field appears twice"};
        seen |= bit;
        if (problem) return problem;
    }

    key_.assign(device);
    key_ += ':';
    key_ += std::to_string(channel);
    Component merged;
    if (auto* known = cache_.find(key_); known && merge == Merge::overlay) merged = *known;
    overlay(merged.power_w, fresh.power_w);
    overlay(merged.voltage_v, fresh.voltage_v);
    overlay(merged.current_a, fresh.current_a);
    overlay(merged.energy_wh, fresh.energy_wh);

    if (!merged.power_w && !merged.energy_wh) {  // a switch without a meter
        cache_.put(key_, merged);
        return std::nullopt;
    }
    auto& r = out.add_reading();
    r.device_id = key_;
    r.ts_ms = ts_ms;
    r.power_w = merged.power_w;
    r.voltage_v = merged.voltage_v;
    r.current_a = merged.current_a;
    r.energy_wh = merged.energy_wh;
    // A refused status is not remembered: later changes are not merged onto it.
    if (auto problem = check_reading(r, ctx, limits_)) return problem;
    cache_.put(key_, merged);
    return std::nullopt;
}

}  // namespace energyhub
