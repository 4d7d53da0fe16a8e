#include "adapter_session.hpp"

#include <cmath>
#include <optional>
#include <string>
#include <string_view>

#include "domain/ids.hpp"
#include "fuzz_check.hpp"
#include "pipeline/payload_decoder.hpp"

namespace energyhub::fuzz {

namespace {

// Half an hour after the autumn change of Europe/Berlin (2025-10-26T01:00Z), so the accepted time
// window holds a repeated local hour for the Tasmota zone to resolve.
constexpr std::int64_t kNowMs = 1'761'442'200'000;
constexpr std::int64_t kReceivedMs = kNowMs - 1000;

std::string describe(const Reading& r) {
    auto value = [](const std::optional<double>& v) { return v ? std::to_string(*v) : std::string("-"); };
    return "reading " + r.device_id + " ts=" + std::to_string(r.ts_ms) + " power_w=" + value(r.power_w) +
           " energy_wh=" + value(r.energy_wh) + " energy_export_wh=" + value(r.energy_export_wh) +
           " voltage_v=" + value(r.voltage_v) + " current_a=" + value(r.current_a);
}

// The device must be a whole level of the topic: the broker's ACL lets a device publish only on
// its own topics, so nothing in a payload may speak for another device.
bool topic_names(std::string_view topic, std::string_view device) {
    std::size_t start = 0;
    for (;;) {
        const auto slash = topic.find('/', start);
        if (topic.substr(start, slash == std::string_view::npos ? slash : slash - start) == device) return true;
        if (slash == std::string_view::npos) return false;
        start = slash + 1;
    }
}

bool finite_or_absent(const std::optional<double>& v) { return !v || std::isfinite(*v); }

void check_accepted(std::string_view topic, const DecodedMessage& out, const DecodeContext& ctx,
                    const ParserLimits& limits) {
    FUZZ_CHECK(out.readings().size() <= kMaxReadingsPerMessage);
    for (const auto& r : out.readings()) {
        const std::string what = describe(r);
        FUZZ_CHECK_CONTEXT(is_valid_reading_device_id(r.device_id), what.c_str());
        FUZZ_CHECK_CONTEXT(topic_names(topic, parent_device_id(r.device_id)), what.c_str());
        FUZZ_CHECK_CONTEXT(r.power_w || r.energy_wh || r.energy_export_wh, what.c_str());
        FUZZ_CHECK_CONTEXT(finite_or_absent(r.power_w) && finite_or_absent(r.energy_wh) &&
                               finite_or_absent(r.energy_export_wh) && finite_or_absent(r.voltage_v) &&
                               finite_or_absent(r.current_a),
                           what.c_str());
        FUZZ_CHECK_CONTEXT(!r.energy_wh || *r.energy_wh >= 0, what.c_str());
        FUZZ_CHECK_CONTEXT(!r.energy_export_wh || *r.energy_export_wh >= 0, what.c_str());
        FUZZ_CHECK_CONTEXT(r.ts_ms >= ctx.now_ms - limits.backfill_window_ms &&
                               r.ts_ms <= ctx.now_ms + limits.future_tolerance_ms,
                           what.c_str());
    }
    if (out.presence) {
        FUZZ_CHECK(is_valid_id(out.presence->device_id));
        FUZZ_CHECK(topic_names(topic, out.presence->device_id));
    }
}

void check_rejected(const Reject& why, const DecodedMessage& out) {
    FUZZ_CHECK(static_cast<std::size_t>(why.reason) < kRejectReasonCount);
    FUZZ_CHECK(why.detail != nullptr && *why.detail != '\0');
    FUZZ_CHECK(out.empty());
}

}  // namespace

void decode_session(const std::uint8_t* data, std::size_t size, std::span<const DeviceTopic> device_topics,
                    const UtcOffsets* tasmota_zone) {
    const ParserLimits limits;
    PayloadDecoder decoder("energy/+/reading", device_topics, limits, tasmota_zone);
    const DecodeContext ctx{kReceivedMs, kNowMs};
    DecodedMessage out;

    std::string_view rest(reinterpret_cast<const char*>(data), size);
    while (!rest.empty()) {
        const auto newline = rest.find('\n');
        const auto line = rest.substr(0, newline);
        rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
        const auto tab = line.find('\t');
        if (tab == std::string_view::npos) continue;
        const auto topic = line.substr(0, tab), payload = line.substr(tab + 1);
        if (auto why = decoder.decode(topic, payload, ctx, out)) check_rejected(*why, out);
        else check_accepted(topic, out, ctx, limits);
    }
}

}  // namespace energyhub::fuzz
