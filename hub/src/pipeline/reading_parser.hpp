#pragma once
// Decodes the native reading format of DESIGN.md:
//   topic   energy/<device_id>/reading
//   payload {"ts": "...Z" | epoch-ms, "power_w": .., "energy_wh": .., "energy_export_wh": ..,
//            "voltage_v": .., "current_a": ..}
// energy_wh counts import (consumption), energy_export_wh export (returned to the grid); a
// negative power_w is net export.
// The device id comes from the topic only. Input is untrusted: sizes, types, ranges and the time
// window are all checked, and the outcome is either a Reading or a Reject with its reason.
// It is the native implementation of PayloadAdapter (pipeline/payload_adapter.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/reading.hpp"
#include "domain/topic_pattern.hpp"
#include "pipeline/json_input.hpp"
#include "pipeline/payload_adapter.hpp"
#include "pipeline/reject.hpp"

namespace energyhub {

class ReadingParser final : public PayloadAdapter {
public:
    ReadingParser(TopicPattern topic, ParserLimits limits);

    // On success fills `out` (reusing its storage) and returns nullopt. A reading without "ts" is
    // dated `received_ms`; the accepted time window is centred on `now_ms`.
    std::optional<Reject> parse(std::string_view topic, std::string_view payload, std::int64_t received_ms,
                                std::int64_t now_ms, Reading& out);

    const TopicPattern& topic() const { return topic_; }

    PayloadFormat format() const override { return PayloadFormat::native; }
    std::optional<Reject> decode(std::string_view topic, const TopicFilter::Match& where, std::string_view payload,
                                 const DecodeContext& ctx, DecodedMessage& out) override;

private:
    TopicPattern topic_;
    ParserLimits limits_;
    JsonInput json_;
};

}  // namespace energyhub
