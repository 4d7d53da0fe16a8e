#include "pipeline/shelly_gen1_adapter.hpp"

#include "domain/ids.hpp"

namespace energyhub {

namespace {

constexpr double kWattMinutesPerWh = 60.0;
constexpr std::size_t kMaxPlainPayload = 64;  // a number or a word; anything longer is not Gen1

}  // namespace

ShellyGen1Adapter::ShellyGen1Adapter(ParserLimits limits, std::size_t cache_entries)
    : limits_(limits), cache_(cache_entries) {}

std::optional<Reject> ShellyGen1Adapter::decode(std::string_view, const TopicFilter::Match& where,
                                                std::string_view payload, const DecodeContext& ctx,
                                                DecodedMessage& out) {
    if (!is_valid_id(where.device))
        return Reject{RejectReason::invalid_device_id, "device id must match [A-Za-z0-9_.-]{1,64}"};
    const auto tail = where.tail;
    if (tail == "online") {
        if (payload.size() > kMaxPlainPayload) return Reject{RejectReason::payload_too_large, "payload too large"};
        auto online = read_plain_flag(payload, "true", "false");
        if (!online) return Reject{RejectReason::bad_value, "online must be true or false"};
        out.presence = Presence{std::string(where.device), *online};
        return std::nullopt;
    }

    // relay/<n>/power or relay/<n>/energy
    constexpr std::string_view kRelay = "relay/";
    if (tail.substr(0, kRelay.size()) != kRelay) return std::nullopt;
    auto rest = tail.substr(kRelay.size());
    auto slash = rest.find('/');
    if (slash == std::string_view::npos) return std::nullopt;  // relay/<n>: on/off
    auto channel = rest.substr(0, slash), value = rest.substr(slash + 1);
    const bool is_power = value == "power", is_energy = value == "energy";
    if (!is_power && !is_energy) return std::nullopt;  // overpower_value...
    if (!is_valid_channel(channel)) return Reject{RejectReason::bad_channel, "relay is not a channel number"};
    if (payload.size() > kMaxPlainPayload) return Reject{RejectReason::payload_too_large, "payload too large"};

    double number = 0;
    if (auto problem = read_plain_number(payload, number)) return problem;

    auto& r = out.add_reading();
    r.device_id.assign(where.device);
    r.device_id += ':';
    r.device_id.append(channel);
    r.ts_ms = ctx.received_ms;
    Relay merged;
    if (auto* known = cache_.find(r.device_id)) merged = *known;
    if (is_power) merged.power_w = number;
    else merged.energy_wh = number / kWattMinutesPerWh;
    r.power_w = merged.power_w;
    r.energy_wh = merged.energy_wh;
    if (auto problem = check_reading(r, ctx, limits_)) return problem;
    cache_.put(r.device_id, merged);
    return std::nullopt;
}

}  // namespace energyhub
