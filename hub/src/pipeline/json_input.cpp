#include "pipeline/json_input.hpp"

#include <charconv>
#include <cmath>

namespace energyhub {

namespace {

// Strips JSON's whitespace (RFC 8259: space, tab, CR, LF) from both ends of a plain payload.
std::string_view trim_json_space(std::string_view s) {
    constexpr std::string_view kSpace = " \t\r\n";
    auto first = s.find_first_not_of(kSpace);
    if (first == std::string_view::npos) return {};
    auto last = s.find_last_not_of(kSpace);
    return s.substr(first, last - first + 1);
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

}  // namespace

std::optional<Reject> JsonInput::parse(std::string_view payload, simdjson::dom::element& root) {
    if (payload.size() > max_bytes_) return Reject{RejectReason::payload_too_large, "payload too large"};
    padded_.assign(payload);
    padded_.append(simdjson::SIMDJSON_PADDING, '\0');
    if (parser_.parse(padded_.data(), payload.size(), false).get(root))
        return Reject{RejectReason::malformed_json, "payload is not valid JSON"};
    return std::nullopt;
}

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

std::optional<Reject> check_reading(const Reading& r, const DecodeContext& ctx, const ParserLimits& limits) {
    if (!r.power_w && !r.energy_wh && !r.energy_export_wh)
        return Reject{RejectReason::no_measurement, "need power or energy"};
    // read_number lets only finite numbers in, but a unit conversion can still overflow: a Tasmota
    // Total of 1e306 kWh is an infinite number of Wh.
    for (const auto* v : {&r.power_w, &r.energy_wh, &r.energy_export_wh, &r.voltage_v, &r.current_a})
        if (*v && !std::isfinite(**v)) return Reject{RejectReason::non_finite, "measurement is not finite"};
    if ((r.energy_wh && *r.energy_wh < 0) || (r.energy_export_wh && *r.energy_export_wh < 0))
        return Reject{RejectReason::negative_energy, "energy counter is negative"};
    return check_time_window(r.ts_ms, ctx.now_ms, limits);
}

std::optional<Reject> check_time_window(std::int64_t ts_ms, std::int64_t now_ms, const ParserLimits& limits) {
    if (ts_ms < now_ms - limits.backfill_window_ms || ts_ms > now_ms + limits.future_tolerance_ms)
        return Reject{RejectReason::timestamp_out_of_window, "time outside the accepted window"};
    return std::nullopt;
}

std::optional<Reject> read_plain_number(std::string_view text, double& out) {
    text = trim_json_space(text);
    if (!text.empty() && text.front() == '+') return Reject{RejectReason::wrong_type, "payload is not a number"};
    double d = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec == std::errc::result_out_of_range) return Reject{RejectReason::non_finite, "number out of range"};
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
        return Reject{RejectReason::wrong_type, "payload is not a number"};
    if (!std::isfinite(d)) return Reject{RejectReason::non_finite, "number is not finite"};
    out = d;
    return std::nullopt;
}

std::optional<bool> read_plain_flag(std::string_view text, std::string_view yes, std::string_view no) {
    text = trim_json_space(text);
    if (equal_ignoring_case(text, yes)) return true;
    if (equal_ignoring_case(text, no)) return false;
    return std::nullopt;
}

}  // namespace energyhub
