#pragma once
// What every JSON payload adapter does the same way with untrusted input: a size limit, simdjson
// on a reused padded copy, numbers that must be finite, a bound on nesting, and the checks every
// decoded reading must pass.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "pipeline/payload_adapter.hpp"

namespace energyhub {

class JsonInput {
public:
    explicit JsonInput(std::size_t max_payload_bytes) : max_bytes_(max_payload_bytes), parser_(max_payload_bytes) {}

    // payload_too_large or malformed_json, else `root` is the document (valid until the next call).
    std::optional<Reject> parse(std::string_view payload, simdjson::dom::element& root);

private:
    std::size_t max_bytes_;
    simdjson::dom::parser parser_;
    std::string padded_;
};

// A JSON number (integer or decimal) as a finite double: wrong_type or non_finite otherwise.
std::optional<Reject> read_number(simdjson::dom::element value, std::optional<double>& out);

// True if `e` nests deeper than `limit` levels.
bool deeper_than(simdjson::dom::element e, std::size_t limit);

// A reading's time inside [now - backfill window, now + future tolerance], for every format.
std::optional<Reject> check_time_window(std::int64_t ts_ms, std::int64_t now_ms, const ParserLimits& limits);

// The checks every reading passes whatever its format: power or energy present, finite numbers,
// a counter that is not negative, a time inside [now - backfill window, now + future tolerance].
std::optional<Reject> check_reading(const Reading& r, const DecodeContext& ctx, const ParserLimits& limits);

// A plain-text number as some firmware publishes them ("56.82", "1380420"); surrounding white
// space is allowed. wrong_type or non_finite otherwise.
std::optional<Reject> read_plain_number(std::string_view text, double& out);

// "true"/"false", "Online"/"Offline" and the like, after trimming white space; nullopt otherwise.
std::optional<bool> read_plain_flag(std::string_view text, std::string_view yes, std::string_view no);

}  // namespace energyhub
