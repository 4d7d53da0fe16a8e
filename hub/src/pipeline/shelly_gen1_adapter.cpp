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

    // relay/<n>/<value> or emeter/<n>/<value>
    auto first = tail.find('/');
    if (first == std::string_view::npos) return std::nullopt;
    const auto group = tail.substr(0, first);
    auto rest = tail.substr(first + 1);
    auto slash = rest.find('/');
    if (slash == std::string_view::npos || (group != "relay" && group != "emeter")) return std::nullopt;  // relay/<n>: on/off
    auto channel = rest.substr(0, slash), value = rest.substr(slash + 1);

    enum class What { power, energy_wmin, total, total_returned, voltage, current, none } what = What::none;
    if (value == "power") what = What::power;
    else if (group == "relay" && value == "energy") what = What::energy_wmin;
    else if (group == "emeter" && value == "total") what = What::total;
    else if (group == "emeter" && value == "total_returned") what = What::total_returned;
    else if (group == "emeter" && value == "voltage") what = What::voltage;
    else if (group == "emeter" && value == "current") what = What::current;
    if (what == What::none) return std::nullopt;  // overpower_value, pf, reactive_power...
    if (!is_valid_channel(channel)) return Reject{RejectReason::bad_channel, "relay or meter is not a channel number"};
    if (payload.size() > kMaxPlainPayload) return Reject{RejectReason::payload_too_large, "payload too large"};

    double number = 0;
    if (auto problem = read_plain_number(payload, number)) return problem;

    key_.assign(where.device);
    key_ += ':';
    key_.append(channel);
    Measurements merged;
    if (auto* known = cache_.find(key_)) merged = *known;
    switch (what) {
        case What::power: merged.power_w = number; break;
        case What::energy_wmin: merged.energy_wh = number / kWattMinutesPerWh; break;
        case What::total: merged.energy_wh = number; break;
        case What::total_returned: merged.energy_export_wh = number; break;
        case What::voltage: merged.voltage_v = number; break;
        case What::current: merged.current_a = number; break;
        case What::none: break;
    }
    if (what == What::voltage || what == What::current) {
        // Not a reading of its own: a meter publishes them beside its power every period.
        cache_.put(key_, merged);
        return std::nullopt;
    }
    auto& r = out.add_reading();
    r.device_id = key_;
    r.ts_ms = ctx.received_ms;
    merged.copy_to(r);
    if (auto problem = check_reading(r, ctx, limits_)) return problem;
    cache_.put(key_, merged);
    return std::nullopt;
}

}  // namespace energyhub
