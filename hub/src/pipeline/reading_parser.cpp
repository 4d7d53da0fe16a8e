#include "pipeline/reading_parser.hpp"

#include <cmath>

#include "domain/ids.hpp"
#include "util/timestamp.hpp"

namespace energyhub {

namespace {

enum Field : unsigned { kTs = 1, kPower = 2, kEnergy = 4, kVoltage = 8, kCurrent = 16 };

// Reads a JSON number as a finite double.
std::optional<Reject> read_number(simdjson::dom::element value, std::optional<double>& out) {
    double d = 0;
    switch (value.type()) {
        case simdjson::dom::element_type::DOUBLE: d = value.get_double().value_unsafe(); break;
        case simdjson::dom::element_type::INT64: d = static_cast<double>(value.get_int64().value_unsafe()); break;
        case simdjson::dom::element_type::UINT64: d = static_cast<double>(value.get_uint64().value_unsafe()); break;
        default: return Reject{RejectReason::wrong_type, "measurement is not a number"};
    }
    if (!std::isfinite(d)) return Reject{RejectReason::non_finite, "measurement is not finite"};
    out = d;
    return std::nullopt;
}

std::optional<Reject> read_timestamp(simdjson::dom::element value, std::int64_t& out) {
    switch (value.type()) {
        case simdjson::dom::element_type::STRING: {
            auto parsed = parse_iso8601_ms(value.get_string().value_unsafe());
            if (!parsed) return Reject{RejectReason::bad_timestamp, "ts is not an ISO 8601 time with a zone"};
            out = *parsed;
            return std::nullopt;
        }
        case simdjson::dom::element_type::INT64: out = value.get_int64().value_unsafe(); return std::nullopt;
        case simdjson::dom::element_type::UINT64:
            return Reject{RejectReason::bad_timestamp, "ts epoch milliseconds out of range"};
        default: return Reject{RejectReason::bad_timestamp, "ts must be a string or epoch milliseconds"};
    }
}

bool deeper_than(simdjson::dom::element e, std::size_t limit) {
    if (limit == 0) return true;
    if (auto arr = e.get_array(); !arr.error()) {
        for (auto child : arr.value_unsafe())
            if (deeper_than(child, limit - 1)) return true;
    } else if (auto obj = e.get_object(); !obj.error()) {
        for (auto field : obj.value_unsafe())
            if (deeper_than(field.value, limit - 1)) return true;
    }
    return false;
}

}  // namespace

ReadingParser::ReadingParser(TopicPattern topic, ParserLimits limits)
    : topic_(std::move(topic)), limits_(limits), json_(limits.max_payload_bytes) {}

std::optional<Reject> ReadingParser::parse(std::string_view topic, std::string_view payload, std::int64_t received_ms,
                                           std::int64_t now_ms, Reading& out) {
    auto device = topic_.match(topic);
    if (!device) return Reject{RejectReason::bad_topic, "topic does not match the reading pattern"};
    if (!is_valid_id(*device)) return Reject{RejectReason::invalid_device_id, "device id must match [A-Za-z0-9_.-]{1,64}"};
    if (payload.size() > limits_.max_payload_bytes) return Reject{RejectReason::payload_too_large, "payload too large"};

    padded_.assign(payload);
    padded_.append(simdjson::SIMDJSON_PADDING, '\0');
    simdjson::dom::element root;
    if (json_.parse(padded_.data(), payload.size(), false).get(root))
        return Reject{RejectReason::malformed_json, "payload is not valid JSON"};
    simdjson::dom::object object;
    if (root.get_object().get(object)) return Reject{RejectReason::not_an_object, "payload is not a JSON object"};

    out.device_id.assign(device->data(), device->size());
    out.ts_ms = received_ms;
    out.power_w.reset();
    out.energy_wh.reset();
    out.voltage_v.reset();
    out.current_a.reset();

    unsigned seen = 0;
    for (auto field : object) {
        std::string_view key = field.key;
        unsigned bit = 0;
        std::optional<Reject> problem;
        if (key == "ts") {
            bit = kTs;
            problem = read_timestamp(field.value, out.ts_ms);
        } else if (key == "power_w") {
            bit = kPower;
            problem = read_number(field.value, out.power_w);
        } else if (key == "energy_wh") {
            bit = kEnergy;
            problem = read_number(field.value, out.energy_wh);
        } else if (key == "voltage_v") {
            bit = kVoltage;
            problem = read_number(field.value, out.voltage_v);
        } else if (key == "current_a") {
            bit = kCurrent;
            problem = read_number(field.value, out.current_a);
        } else if (deeper_than(field.value, limits_.max_depth)) {
            return Reject{RejectReason::malformed_json, "payload nests too deeply"};
        }
        if (bit != 0 && (seen & bit)) return Reject{RejectReason::duplicate_key, "a known field appears twice"};
        seen |= bit;
        if (problem) return problem;
    }

    if (!(seen & (kPower | kEnergy))) return Reject{RejectReason::no_measurement, "need power_w or energy_wh"};
    if (out.energy_wh && *out.energy_wh < 0) return Reject{RejectReason::negative_energy, "energy_wh counter is negative"};
    if (out.ts_ms < now_ms - limits_.backfill_window_ms || out.ts_ms > now_ms + limits_.future_tolerance_ms)
        return Reject{RejectReason::timestamp_out_of_window, "ts outside the accepted window"};
    return std::nullopt;
}

}  // namespace energyhub
