#pragma once
// Why a message was refused. Each reason has a stable name: it is the dead-letter "reason" and the
// metrics label, so dashboards and scripts can rely on it. New reasons go at the end.
#include <array>
#include <cstddef>
#include <string_view>

namespace energyhub {

enum class RejectReason : std::size_t {
    bad_topic,
    invalid_device_id,
    payload_too_large,
    malformed_json,
    not_an_object,
    duplicate_key,
    wrong_type,
    non_finite,
    bad_timestamp,
    timestamp_out_of_window,
    negative_energy,
    no_measurement,
    unknown_device,
    bad_channel,  // a channel number or a per-channel array that does not fit
    bad_value,    // a plain-text payload (LWT, online) that the format does not define
    count_  // keep last
};

constexpr std::size_t kRejectReasonCount = static_cast<std::size_t>(RejectReason::count_);

constexpr std::string_view reject_reason_name(RejectReason r) {
    constexpr std::array<std::string_view, kRejectReasonCount> names = {
        "bad_topic",     "invalid_device_id",       "payload_too_large", "malformed_json", "not_an_object",
        "duplicate_key", "wrong_type",              "non_finite",        "bad_timestamp",
        "timestamp_out_of_window", "negative_energy", "no_measurement",  "unknown_device",
        "bad_channel",   "bad_value"};
    return names[static_cast<std::size_t>(r)];
}

// A refusal with a short human explanation (a string literal: no allocation on the hot path).
struct Reject {
    RejectReason reason;
    const char* detail;
};

}  // namespace energyhub
