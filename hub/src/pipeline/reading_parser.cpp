#include "pipeline/reading_parser.hpp"

#include "domain/ids.hpp"
#include "util/timestamp.hpp"

namespace energyhub {

namespace {

// The members of a reading seen so far, as bits.
enum Seen : unsigned {
    kSeenTs = 1,
    kSeenPower = 2,
    kSeenEnergy = 4,
    kSeenVoltage = 8,
    kSeenCurrent = 16,
    kSeenExport = 32
};

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

}  // namespace

ReadingParser::ReadingParser(TopicPattern topic, ParserLimits limits)
    : topic_(std::move(topic)), limits_(limits), json_(limits.max_payload_bytes) {}

std::optional<Reject> ReadingParser::decode(std::string_view topic, const TopicFilter::Match&, std::string_view payload,
                                            const DecodeContext& ctx, DecodedMessage& out) {
    auto problem = parse(topic, payload, ctx.received_ms, ctx.now_ms, out.add_reading());
    if (problem) out.drop_last();
    return problem;
}

std::optional<Reject> ReadingParser::parse(std::string_view topic, std::string_view payload, std::int64_t received_ms,
                                           std::int64_t now_ms, Reading& out) {
    auto device = topic_.match(topic);
    if (!device) return Reject{RejectReason::bad_topic, "topic does not match the reading pattern"};
    if (!is_valid_id(*device)) return Reject{RejectReason::invalid_device_id, "device id must match [A-Za-z0-9_.-]{1,64}"};

    simdjson::dom::element root;
    if (auto problem = json_.parse(payload, root)) return problem;
    simdjson::dom::object object;
    if (root.get_object().get(object)) return Reject{RejectReason::not_an_object, "payload is not a JSON object"};

    out.device_id.assign(device->data(), device->size());
    out.ts_ms = received_ms;
    out.power_w.reset();
    out.energy_wh.reset();
    out.energy_export_wh.reset();
    out.voltage_v.reset();
    out.current_a.reset();

    unsigned seen = 0;
    for (auto field : object) {
        std::string_view key = field.key;
        unsigned bit = 0;
        std::optional<Reject> problem;
        if (key == "ts") {
            bit = kSeenTs;
            problem = read_timestamp(field.value, out.ts_ms);
        } else if (key == "power_w") {
            bit = kSeenPower;
            problem = read_number(field.value, out.power_w);
        } else if (key == "energy_wh") {
            bit = kSeenEnergy;
            problem = read_number(field.value, out.energy_wh);
        } else if (key == "energy_export_wh") {
            bit = kSeenExport;
            problem = read_number(field.value, out.energy_export_wh);
        } else if (key == "voltage_v") {
            bit = kSeenVoltage;
            problem = read_number(field.value, out.voltage_v);
        } else if (key == "current_a") {
            bit = kSeenCurrent;
            problem = read_number(field.value, out.current_a);
        } else if (deeper_than(field.value, limits_.max_depth)) {
            return Reject{RejectReason::malformed_json, "payload nests too deeply"};
        }
        if (bit != 0 && (seen & bit)) return Reject{RejectReason::duplicate_key, "a known field appears twice"};
        seen |= bit;
        if (problem) return problem;
    }

    if (!(seen & (kSeenPower | kSeenEnergy | kSeenExport)))
        return Reject{RejectReason::no_measurement, "need power_w, energy_wh or energy_export_wh"};
    if (out.energy_wh && *out.energy_wh < 0) return Reject{RejectReason::negative_energy, "energy_wh counter is negative"};
    if (out.energy_export_wh && *out.energy_export_wh < 0)
        return Reject{RejectReason::negative_energy, "energy_export_wh counter is negative"};
    return check_time_window(out.ts_ms, now_ms, limits_);
}

}  // namespace energyhub
