#include "pipeline/tasmota_adapter.hpp"

#include <array>
#include <cstdlib>
#include <cstring>

#include "domain/ids.hpp"
#include "util/timestamp.hpp"

namespace energyhub {

namespace {

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::size_t kMaxTimeText = 40;

std::string_view last_level(std::string_view tail) {
    auto slash = tail.rfind('/');
    return slash == std::string_view::npos ? tail : tail.substr(slash + 1);
}

// One ENERGY field: absent, a single number, or one number per channel.
struct Values {
    bool present = false;
    bool array = false;
    std::size_t n = 0;
    std::array<double, kMaxTasmotaChannels> v{};

    bool scalar() const { return present && !array; }
    std::optional<double> at(std::size_t i) const { return array ? std::optional<double>(v[i]) : std::nullopt; }
    std::optional<double> single() const { return scalar() ? std::optional<double>(v[0]) : std::nullopt; }
    // The device's own value: the single number, or the sum over its channels.
    std::optional<double> whole() const {
        if (!present) return std::nullopt;
        double sum = 0;
        for (std::size_t i = 0; i < n; ++i) sum += v[i];
        return sum;
    }
};

std::optional<Reject> read_values(simdjson::dom::element value, Values& out) {
    if (out.present) return Reject{RejectReason::duplicate_key, "an ENERGY field appears twice"};
    out.present = true;
    if (auto arr = value.get_array(); !arr.error()) {
        out.array = true;
        for (auto item : arr.value_unsafe()) {
            if (out.n == kMaxTasmotaChannels) return Reject{RejectReason::bad_channel, "more channels than supported"};
            std::optional<double> d;
            if (auto problem = read_number(item, d)) return problem;
            out.v[out.n++] = *d;
        }
        if (out.n == 0) return Reject{RejectReason::bad_channel, "empty channel array"};
        return std::nullopt;
    }
    std::optional<double> d;
    if (auto problem = read_number(value, d)) return problem;
    out.v[0] = *d;
    out.n = 1;
    return std::nullopt;
}

std::optional<double> kwh_to_wh(std::optional<double> kwh) {
    return kwh ? std::optional<double>(*kwh * 1000.0) : std::nullopt;
}

}  // namespace

std::int64_t resolve_local_time(std::int64_t local_ms, const UtcOffsets& zone, std::int64_t near_ms) {
    auto offset_ms = [&](std::int64_t utc_ms) { return zone.offset_at(floor_div(utc_ms, 1000)) * 1000; };
    // The offsets on either side of any change near this time (changes are months apart).
    const std::int64_t before = offset_ms(local_ms - kDayMs), after = offset_ms(local_ms + kDayMs);
    const std::int64_t a = local_ms - before, b = local_ms - after;
    const bool a_ok = a + offset_ms(a) == local_ms, b_ok = b + offset_ms(b) == local_ms;
    if (a_ok && b_ok && a != b) return std::llabs(a - near_ms) <= std::llabs(b - near_ms) ? a : b;
    if (a_ok) return a;
    if (b_ok) return b;
    return a;  // skipped by a change: read with the offset before it
}

TasmotaAdapter::TasmotaAdapter(ParserLimits limits, const UtcOffsets* zone)
    : limits_(limits), zone_(zone), json_(limits.max_payload_bytes) {}

std::optional<Reject> TasmotaAdapter::decode(std::string_view, const TopicFilter::Match& where, std::string_view payload,
                                             const DecodeContext& ctx, DecodedMessage& out) {
    if (!is_valid_id(where.device))
        return Reject{RejectReason::invalid_device_id, "device id must match [A-Za-z0-9_.-]{1,64}"};
    const auto kind = last_level(where.tail);
    if (kind == "SENSOR") return sensor(where.device, payload, ctx, out);
    if (kind == "LWT") {
        if (payload.size() > limits_.max_payload_bytes) return Reject{RejectReason::payload_too_large, "payload too large"};
        auto online = read_plain_flag(payload, "Online", "Offline");
        if (!online) return Reject{RejectReason::bad_value, "LWT must be Online or Offline"};
        out.presence = Presence{std::string(where.device), *online};
        return std::nullopt;
    }
    if (kind == "STATE") {
        simdjson::dom::element root;
        if (auto problem = json_.parse(payload, root)) return problem;
        if (!root.is_object()) return Reject{RejectReason::not_an_object, "payload is not a JSON object"};
        out.presence = Presence{std::string(where.device), true};
        return std::nullopt;
    }
    return std::nullopt;  // INFO1, RESULT, HASS_STATE...: nothing to store
}

std::optional<Reject> TasmotaAdapter::time_of(std::string_view text, const DecodeContext& ctx, std::int64_t& out) const {
    if (auto exact = parse_iso8601_ms(text)) {
        out = *exact;
        return std::nullopt;
    }
    if (text.size() > kMaxTimeText) return Reject{RejectReason::bad_timestamp, "Time is not an ISO 8601 time"};
    std::array<char, kMaxTimeText + 1> buffer{};
    std::memcpy(buffer.data(), text.data(), text.size());
    buffer[text.size()] = 'Z';
    auto local = parse_iso8601_ms(std::string_view(buffer.data(), text.size() + 1));
    if (!local) return Reject{RejectReason::bad_timestamp, "Time is not an ISO 8601 time"};
    out = zone_ ? resolve_local_time(*local, *zone_, ctx.received_ms) : ctx.received_ms;
    return std::nullopt;
}

std::optional<Reject> TasmotaAdapter::sensor(std::string_view device, std::string_view payload, const DecodeContext& ctx,
                                             DecodedMessage& out) {
    simdjson::dom::element root;
    if (auto problem = json_.parse(payload, root)) return problem;
    simdjson::dom::object object;
    if (root.get_object().get(object)) return Reject{RejectReason::not_an_object, "payload is not a JSON object"};
    if (deeper_than(root, limits_.max_depth)) return Reject{RejectReason::malformed_json, "payload nests too deeply"};

    std::optional<std::string_view> time_text;
    std::optional<simdjson::dom::object> energy;
    for (auto field : object) {
        std::string_view key = field.key;
        if (key == "Time") {
            if (time_text) return Reject{RejectReason::duplicate_key, "Time appears twice"};
            std::string_view text;
            if (field.value.get_string().get(text)) return Reject{RejectReason::bad_timestamp, "Time must be a string"};
            time_text = text;
        } else if (key == "ENERGY") {
            if (energy) return Reject{RejectReason::duplicate_key, "ENERGY appears twice"};
            simdjson::dom::object e;
            if (field.value.get_object().get(e)) return Reject{RejectReason::wrong_type, "ENERGY is not an object"};
            energy = e;
        }
    }
    if (!energy) return std::nullopt;  // a switch or sensor without an energy meter

    Values power, voltage, current, total, exported, today, yesterday;
    for (auto field : *energy) {
        std::string_view key = field.key;
        std::optional<Reject> problem;
        if (key == "Power") problem = read_values(field.value, power);
        else if (key == "Voltage") problem = read_values(field.value, voltage);
        else if (key == "Current") problem = read_values(field.value, current);
        else if (key == "Total") problem = read_values(field.value, total);
        else if (key == "ExportActive") problem = read_values(field.value, exported);
        else if (key == "Today") problem = read_values(field.value, today);
        else if (key == "Yesterday") problem = read_values(field.value, yesterday);
        else if (key == "TotalStartTime" && !field.value.is_string())
            problem = Reject{RejectReason::wrong_type, "TotalStartTime is not a string"};
        if (problem) return problem;
    }
    if (!power.present && !total.present && !exported.present)
        return Reject{RejectReason::no_measurement, "ENERGY has neither Power nor Total"};

    std::size_t channels = 0;
    for (const Values* f : {&power, &voltage, &current, &total, &exported, &today, &yesterday}) {
        if (!f->array) continue;
        if (channels != 0 && f->n != channels) return Reject{RejectReason::bad_channel, "channel arrays differ in length"};
        channels = f->n;
    }

    std::int64_t ts = ctx.received_ms;
    if (time_text) {
        if (auto problem = time_of(*time_text, ctx, ts)) return problem;
    }

    auto emit = [&](std::string_view id, std::optional<double> p, std::optional<double> wh, std::optional<double> export_wh,
                    std::optional<double> v, std::optional<double> a) -> std::optional<Reject> {
        if (!p && !wh && !export_wh) return std::nullopt;
        auto& r = out.add_reading();
        r.device_id.assign(id);
        r.ts_ms = ts;
        r.power_w = p;
        r.energy_wh = wh;
        r.energy_export_wh = export_wh;
        r.voltage_v = v;
        r.current_a = a;
        return check_reading(r, ctx, limits_);
    };

    if (channels == 0) {
        if (auto problem = emit(device, power.single(), kwh_to_wh(total.single()), kwh_to_wh(exported.single()),
                                voltage.single(), current.single()))
            return problem;
    } else {
        std::string id;
        for (std::size_t i = 0; i < channels; ++i) {
            id.assign(device);
            id += ':';
            id += std::to_string(i + 1);
            auto v = voltage.array ? voltage.at(i) : voltage.single();
            if (auto problem = emit(id, power.at(i), kwh_to_wh(total.at(i)), kwh_to_wh(exported.at(i)), v, current.at(i)))
                return problem;
        }
        // The device's own reading: its totals, sent once (the default) or per channel (SetOption129),
        // and its net power, the sum over the channels (phases); per-channel voltage and current
        // have no device value.
        if (auto problem = emit(device, power.whole(), kwh_to_wh(total.whole()), kwh_to_wh(exported.whole()),
                                voltage.single(), current.single()))
            return problem;
    }
    if (out.readings().empty()) return Reject{RejectReason::no_measurement, "no channel has Power or Total"};
    return std::nullopt;
}

}  // namespace energyhub
