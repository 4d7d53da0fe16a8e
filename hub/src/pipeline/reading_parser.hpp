#pragma once
// Decodes the native reading format of DESIGN.md:
//   topic   energy/<device_id>/reading
//   payload {"ts": "...Z" | epoch-ms, "power_w": .., "energy_wh": .., "voltage_v": .., "current_a": ..}
// The device id comes from the topic only. Input is untrusted: sizes, types, ranges and the time
// window are all checked, and the outcome is either a Reading or a Reject with its reason.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "domain/reading.hpp"
#include "pipeline/reject.hpp"
#include "pipeline/topic_pattern.hpp"

namespace energyhub {

struct ParserLimits {
    std::size_t max_payload_bytes = 16 * 1024;
    std::int64_t backfill_window_ms = 7 * 86'400'000LL;  // oldest accepted reading, before now
    std::int64_t future_tolerance_ms = 5 * 60'000LL;     // newest accepted reading, after now
    std::size_t max_depth = 16;                          // nesting allowed in ignored fields
};

class ReadingParser {
public:
    ReadingParser(TopicPattern topic, ParserLimits limits);

    // On success fills `out` (reusing its storage) and returns nullopt. A reading without "ts" is
    // dated `received_ms`; the accepted time window is centred on `now_ms`.
    std::optional<Reject> parse(std::string_view topic, std::string_view payload, std::int64_t received_ms,
                                std::int64_t now_ms, Reading& out);

    const TopicPattern& topic() const { return topic_; }

private:
    TopicPattern topic_;
    ParserLimits limits_;
    simdjson::dom::parser json_;
    std::string padded_;  // reused copy of the payload with simdjson's padding
};

}  // namespace energyhub
