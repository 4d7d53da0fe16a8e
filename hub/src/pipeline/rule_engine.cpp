#include "pipeline/rule_engine.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <spdlog/fmt/fmt.h>

#include "domain/ids.hpp"

namespace energyhub {

namespace {

// Integrating power over a long gap would invent usage: a device that sends no counter and was
// silent for longer than this contributes nothing for the gap.
constexpr std::int64_t kMaxIntegrationGapMs = 15 * 60'000;

std::string describe(RuleKind rule, AlertState state, const std::string& device, double value, double threshold) {
    const bool firing = state == AlertState::firing;
    switch (rule) {
        case RuleKind::power_above:
            return firing ? fmt::format("{} draws {:.0f} W, above {:.0f} W", device, value, threshold)
                          : fmt::format("{} is back to {:.0f} W", device, value);
        case RuleKind::daily_energy_above:
            return firing ? fmt::format("{} used {:.2f} kWh today, above {:.2f} kWh", device, value, threshold)
                          : fmt::format("{} starts a new day (used {:.2f} kWh)", device, value);
        case RuleKind::device_offline:
            return firing ? fmt::format("{} has sent nothing for {:.0f} s", device, value)
                          : fmt::format("{} is reporting again", device);
        case RuleKind::spike:
            return firing ? fmt::format("{} jumped to {:.0f} W, {:.1f}x its usual {:.0f} W", device, value,
                                        threshold > 0 ? value / threshold : 0.0, threshold)
                          : fmt::format("{} is back to {:.0f} W", device, value);
    }
    return {};
}

}  // namespace

std::string alert_id(std::string_view device_id, RuleKind rule, AlertState state, std::int64_t since_ms) {
    auto text = fmt::format("{}|{}|{}|{}", device_id, rule_name(rule), alert_state_name(state), since_ms);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
    // Formatted like a version-4 UUID so it fits a uuid column and reads as one.
    digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x40);
    digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);
    char out[37];
    std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", digest[0],
                  digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7], digest[8], digest[9],
                  digest[10], digest[11], digest[12], digest[13], digest[14], digest[15]);
    return out;
}

RuleEngine::RuleEngine(DeviceTable& table, std::shared_ptr<const ThresholdsConfig> thresholds, LocalDayPort& days)
    : table_(table), thresholds_(std::move(thresholds)), days_(days) {}

void RuleEngine::set_thresholds(std::shared_ptr<const ThresholdsConfig> thresholds) {
    thresholds_ = std::move(thresholds);
    resolved_.clear();
    table_.for_each([&](const std::string& id, DeviceSlot& slot) {
        if (slot.rules.rules) resolve_rules(id, slot.rules);
    });
}

std::size_t RuleEngine::devices() {
    std::size_t n = 0;
    table_.for_each(
        [&](const std::string&, const DeviceSlot& slot) { n += slot.rules.rules || slot.rules.firing_bits; });
    return n;
}

void RuleEngine::resolve_rules(const std::string& device_id, RuleState& st) {
    // A channel follows the thresholds configured for its device.
    const auto layers = thresholds_->layers_for(parent_device_id(device_id), *st.user_id, *st.type);
    auto it = resolved_.find(layers);
    if (it == resolved_.end()) it = resolved_.emplace(layers, thresholds_->resolve(layers)).first;
    st.rules = &it->second;
}

void RuleEngine::transition(const std::string& device_id, RuleState& st, RuleKind rule, AlertState state, double value,
                            double threshold, std::int64_t since_ms, std::int64_t ts_ms, std::vector<Alert>& out) {
    auto& status = st.of(rule);
    st.set_firing(rule, state == AlertState::firing);
    if (state == AlertState::firing) {
        status.since_ms = since_ms;
        status.threshold = threshold;
    }
    Alert a;
    a.id = alert_id(device_id, rule, state, status.since_ms);
    a.user_id = *st.user_id;
    a.device_id = device_id;
    a.rule = rule;
    a.state = state;
    a.value = value;
    a.threshold = threshold;
    a.since_ms = status.since_ms;
    a.ts_ms = ts_ms;
    a.message = describe(rule, state, device_id, value, threshold);
    out.push_back(std::move(a));
}

void RuleEngine::on_reading(const EnrichedReading& r, std::string_view device_type, std::vector<Alert>& out) {
    const auto& id = r.reading.device_id;
    auto& st = table_.get(id).rules;
    if (!st.rules || *st.user_id != r.user_id || *st.type != device_type) {
        st.user_id = table_.intern(r.user_id);
        st.type = table_.intern(device_type);
        resolve_rules(id, st);
    }
    const auto ts = r.reading.ts_ms;
    st.last_seen_ms = std::max(st.last_seen_ms, ts);

    if (st.firing(RuleKind::device_offline)) {
        const auto& offline = st.of(RuleKind::device_offline);
        transition(id, st, RuleKind::device_offline, AlertState::resolved, 0, offline.threshold, offline.since_ms, ts,
                   out);
    }

    // An older or replayed reading was evaluated already (or is history): it changes nothing.
    if (ts <= st.last_ts_ms) return;
    st.last_ts_ms = ts;

    eval_daily(id, st, r, out);
    if (r.reading.power_w) {
        eval_power(id, st, *r.reading.power_w, ts, out);
        eval_spike(id, st, *r.reading.power_w, ts, out);
        st.last_power_w = *r.reading.power_w;
        st.last_power_ts_ms = ts;
    }
}

void RuleEngine::eval_power(const std::string& id, RuleState& st, double p, std::int64_t ts, std::vector<Alert>& out) {
    const bool firing = st.firing(RuleKind::power_above);
    if (!st.rules->power_above) {
        if (firing)
            transition(id, st, RuleKind::power_above, AlertState::resolved, p, st.of(RuleKind::power_above).threshold,
                       0, ts, out);
        st.above_since_ms = -1;
        return;
    }
    const auto& rule = *st.rules->power_above;
    if (p > rule.watts) {
        if (st.above_since_ms < 0) st.above_since_ms = ts;
        if (!firing && ts - st.above_since_ms >= rule.hold.count())
            transition(id, st, RuleKind::power_above, AlertState::firing, p, rule.watts, st.above_since_ms, ts, out);
        return;
    }
    st.above_since_ms = -1;
    // Between clear_below and watts the alert holds: no flapping around the threshold.
    if (firing && p <= rule.clear_below)
        transition(id, st, RuleKind::power_above, AlertState::resolved, p, rule.watts, 0, ts, out);
}

void RuleEngine::eval_daily(const std::string& id, RuleState& st, const EnrichedReading& r, std::vector<Alert>& out) {
    const auto ts = r.reading.ts_ms;
    if (ts >= st.day_end_ms || ts < st.day_start_ms) {
        auto [start, end] = days_.day_of(r.time_zone, ts);
        if (st.firing(RuleKind::daily_energy_above))
            transition(id, st, RuleKind::daily_energy_above, AlertState::resolved, st.day_wh / 1000,
                       st.of(RuleKind::daily_energy_above).threshold, 0, start, out);
        st.day_start_ms = start;
        st.day_end_ms = end;
        st.day_wh = 0;
    }
    double used_wh = 0;
    if (r.energy_delta_wh) {
        used_wh = *r.energy_delta_wh;
    } else if (!r.reading.energy_wh && st.last_power_ts_ms >= 0 && ts - st.last_power_ts_ms <= kMaxIntegrationGapMs) {
        // No counter: integrate the previous power over the interval (export counts as nothing).
        used_wh = std::max(0.0, st.last_power_w) * static_cast<double>(ts - st.last_power_ts_ms) / 3'600'000.0;
    }
    st.day_wh += used_wh;
    if (!st.rules->daily_energy_above) return;
    const double limit_kwh = st.rules->daily_energy_above->kwh;
    if (!st.firing(RuleKind::daily_energy_above) && st.day_wh > limit_kwh * 1000)
        transition(id, st, RuleKind::daily_energy_above, AlertState::firing, st.day_wh / 1000, limit_kwh, ts, ts, out);
}

void RuleEngine::eval_spike(const std::string& id, RuleState& st, double p, std::int64_t ts, std::vector<Alert>& out) {
    if (!st.rules->spike) return;
    const auto& rule = *st.rules->spike;
    if (st.baseline_start_ms < 0) {
        st.baseline_w = p;
        st.baseline_start_ms = ts;
        return;
    }
    if (st.firing(RuleKind::spike)) {
        // The baseline is frozen while the spike lasts, so the spike does not become normal.
        if (p < rule.clear_factor * st.baseline_w)
            transition(id, st, RuleKind::spike, AlertState::resolved, p, st.baseline_w, 0, ts, out);
        return;
    }
    const bool warmed_up = ts - st.baseline_start_ms >= rule.baseline.count();
    // A meter that has been exporting on average (solar) has no consumption to jump from: the
    // evening's return to import is not a spike.
    if (warmed_up && st.baseline_w > 0 && p >= rule.min_watts && p >= rule.factor * st.baseline_w) {
        transition(id, st, RuleKind::spike, AlertState::firing, p, st.baseline_w, ts, ts, out);
        return;
    }
    // Exponential moving average with the configured time constant.
    const double dt = static_cast<double>(std::max<std::int64_t>(0, ts - st.last_power_ts_ms));
    const double alpha = 1.0 - std::exp(-dt / static_cast<double>(rule.baseline.count()));
    st.baseline_w += alpha * (p - st.baseline_w);
}

void RuleEngine::check_offline(std::int64_t now_ms, std::vector<Alert>& out) {
    table_.for_each([&](const std::string& id, DeviceSlot& slot) {
        auto& st = slot.rules;
        // Restored without a type, a device waits for a reading to know its rules.
        if (!st.rules || !st.rules->device_offline || st.last_seen_ms == INT64_MIN) return;
        const auto after = st.rules->device_offline->after.count();
        if (!st.firing(RuleKind::device_offline) && now_ms - st.last_seen_ms > after)
            transition(id, st, RuleKind::device_offline, AlertState::firing,
                       static_cast<double>(now_ms - st.last_seen_ms) / 1000.0, static_cast<double>(after) / 1000.0,
                       st.last_seen_ms, now_ms, out);
    });
}

void RuleEngine::seed_device(const std::string& device_id, const std::string& user_id, const std::string& type,
                             std::int64_t last_seen_ms, std::int64_t not_before_ms) {
    auto& st = table_.get(device_id).rules;
    st.user_id = table_.intern(user_id);
    st.type = table_.intern(type);
    st.last_seen_ms = std::max(last_seen_ms, not_before_ms);
    resolve_rules(device_id, st);
}

void RuleEngine::restore_firing(const Alert& alert) {
    auto& st = table_.get(alert.device_id).rules;
    if (st.user_id->empty()) st.user_id = table_.intern(alert.user_id);
    st.set_firing(alert.rule, true);
    st.of(alert.rule) = {alert.since_ms, alert.threshold};
}

}  // namespace energyhub
