#pragma once
// Shelly Gen1 devices (Plug S, 1PM, 2.5...), which publish plain numbers, one value per topic:
//   shellies/<device>/relay/<n>/power    instantaneous power, W
//   shellies/<device>/relay/<n>/energy   energy counter in watt-minutes (stored as Wh: / 60)
//   shellies/<device>/online             "true" / "false"
// Relay <n> is the sub-device "<device>:<n>". A power message and an energy message arrive
// separately; each reading carries the new value and the last known value of the other one, so a
// reading, and the retained state built from it, always has both once both have been seen.
// Neither message has a time: readings are dated by the hub's receive time. Other topics
// (relay/<n> on/off, announce, info, emeter/...) are ignored.
#include <optional>
#include <string>
#include <string_view>

#include "pipeline/json_input.hpp"
#include "pipeline/payload_adapter.hpp"
#include "util/lru_cache.hpp"

namespace energyhub {

constexpr std::size_t kShellyGen1RelayCache = 4096;

class ShellyGen1Adapter final : public PayloadAdapter {
public:
    explicit ShellyGen1Adapter(ParserLimits limits, std::size_t cache_entries = kShellyGen1RelayCache);

    PayloadFormat format() const override { return PayloadFormat::shelly_gen1; }
    std::optional<Reject> decode(std::string_view topic, const TopicFilter::Match& where, std::string_view payload,
                                 const DecodeContext& ctx, DecodedMessage& out) override;

private:
    struct Relay {
        std::optional<double> power_w, energy_wh;
    };

    ParserLimits limits_;
    LruCache<std::string, Relay> cache_;  // sub-device id -> last known values
};

}  // namespace energyhub
