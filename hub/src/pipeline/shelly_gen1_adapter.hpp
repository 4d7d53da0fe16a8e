#pragma once
// Shelly Gen1 devices (Plug S, 1PM, 2.5, EM, 3EM), which publish plain numbers, one value per topic:
//   shellies/<device>/relay/<n>/power             instantaneous power, W
//   shellies/<device>/relay/<n>/energy            energy counter in watt-minutes (stored as Wh: / 60)
//   shellies/<device>/emeter/<n>/power            a meter's clamp or phase: net power, W
//   shellies/<device>/emeter/<n>/total            its import counter, Wh
//   shellies/<device>/emeter/<n>/total_returned   its export counter, Wh
//   shellies/<device>/emeter/<n>/voltage, current  V, A: kept for the next reading, not one of their own
//   shellies/<device>/online                      "true" / "false"
// Relay or meter <n> is the sub-device "<device>:<n>". The values arrive separately; each reading
// carries the new value and the last known values of the others, so a reading, and the retained
// state built from it, has them all once all have been seen. No message has a time: readings are
// dated by the hub's receive time. Other topics (relay/<n> on/off, emeter/<n>/energy and
// returned_energy, which restart at every reboot, pf, reactive_power, announce, info) are ignored.
#include <optional>
#include <string>
#include <string_view>

#include "pipeline/json_input.hpp"
#include "pipeline/payload_adapter.hpp"
#include "util/lru_cache.hpp"

namespace energyhub {

constexpr std::size_t kShellyGen1ChannelCache = 4096;

class ShellyGen1Adapter final : public PayloadAdapter {
public:
    explicit ShellyGen1Adapter(ParserLimits limits, std::size_t cache_entries = kShellyGen1ChannelCache);

    PayloadFormat format() const override { return PayloadFormat::shelly_gen1; }
    std::optional<Reject> decode(std::string_view topic, const TopicFilter::Match& where, std::string_view payload,
                                 const DecodeContext& ctx, DecodedMessage& out) override;

private:
    ParserLimits limits_;
    LruCache<std::string, Measurements> cache_;  // sub-device id -> last known values
    std::string key_;
};

}  // namespace energyhub
