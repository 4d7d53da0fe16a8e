#include "config/thresholds.hpp"

#include "config/section.hpp"

namespace energyhub {

namespace {

void require_positive(Section& s, const std::string& key, double value) {
    if (!(value > 0)) s.fail(s.child(key), s.key_path(key), "must be greater than 0");
}

// Reads `{enabled: false}` or the rule's fields; returns whether the rule is enabled.
bool enabled(Section& s) {
    bool on = true;
    s.boolean("enabled", on);
    return on;
}

std::optional<PowerAboveRule> read_power_above(Section s) {
    if (!enabled(s)) return s.reject_unknown(), std::nullopt;
    PowerAboveRule r;
    if (!s.child("watts").IsDefined()) s.fail(s.node(), s.key_path("watts"), "is required");
    s.number("watts", r.watts, -1e12);
    require_positive(s, "watts", r.watts);
    s.duration("for", r.hold, true);
    r.clear_below = r.watts * 0.9;
    s.number("clear_below", r.clear_below, 0);
    if (r.clear_below >= r.watts) s.fail(s.child("clear_below"), s.key_path("clear_below"), "must be below watts");
    s.reject_unknown();
    return r;
}

std::optional<DailyEnergyRule> read_daily_energy(Section s) {
    if (!enabled(s)) return s.reject_unknown(), std::nullopt;
    DailyEnergyRule r;
    if (!s.child("kwh").IsDefined()) s.fail(s.node(), s.key_path("kwh"), "is required");
    s.number("kwh", r.kwh, -1e12);
    require_positive(s, "kwh", r.kwh);
    s.reject_unknown();
    return r;
}

std::optional<OfflineRule> read_offline(Section s) {
    if (!enabled(s)) return s.reject_unknown(), std::nullopt;
    OfflineRule r;
    if (!s.child("after").IsDefined()) s.fail(s.node(), s.key_path("after"), "is required");
    s.duration("after", r.after);
    s.reject_unknown();
    return r;
}

std::optional<SpikeRule> read_spike(Section s) {
    if (!enabled(s)) return s.reject_unknown(), std::nullopt;
    SpikeRule r;
    if (!s.child("factor").IsDefined()) s.fail(s.node(), s.key_path("factor"), "is required");
    s.number("factor", r.factor, -1e12);
    if (!(r.factor > 1)) s.fail(s.child("factor"), s.key_path("factor"), "must be greater than 1");
    r.baseline = std::chrono::minutes(15);
    s.duration("baseline", r.baseline);
    r.clear_factor = (1 + r.factor) / 2;
    s.number("clear_factor", r.clear_factor, 1);
    if (r.clear_factor >= r.factor) s.fail(s.child("clear_factor"), s.key_path("clear_factor"), "must be below factor");
    r.min_watts = 100;
    s.number("min_watts", r.min_watts, 0);
    s.reject_unknown();
    return r;
}

RuleLayer read_layer(Section s) {
    RuleLayer layer;
    if (s.child("power_above").IsDefined()) layer.power_above = read_power_above(s.section("power_above"));
    if (s.child("daily_energy_above").IsDefined())
        layer.daily_energy_above = read_daily_energy(s.section("daily_energy_above"));
    if (s.child("device_offline").IsDefined()) layer.device_offline = read_offline(s.section("device_offline"));
    if (s.child("spike").IsDefined()) layer.spike = read_spike(s.section("spike"));
    s.reject_unknown();
    return layer;
}

void read_layers(Section s, std::map<std::string, RuleLayer, std::less<>>& out) {
    if (!s.node().IsDefined() || !s.node().IsMap()) return;
    for (const auto& kv : s.node()) {
        auto name = s.key_text(kv.first);
        out[name] = read_layer(s.section(name));
    }
}

template <typename Rule>
void apply(std::optional<Rule>& out, const std::optional<std::optional<Rule>>& layer) {
    if (layer) out = *layer;
}

void apply_layer(RuleSet& set, const RuleLayer& layer) {
    apply(set.power_above, layer.power_above);
    apply(set.daily_energy_above, layer.daily_energy_above);
    apply(set.device_offline, layer.device_offline);
    apply(set.spike, layer.spike);
}

}  // namespace

void read_thresholds(Section s, ThresholdsConfig& out) {
    out.defaults = read_layer(s.section("defaults"));
    read_layers(s.section("types"), out.types);
    read_layers(s.section("users"), out.users);
    read_layers(s.section("devices"), out.devices);
    s.reject_unknown();
}

ThresholdsConfig::Layers ThresholdsConfig::layers_for(std::string_view device_id, std::string_view user_id,
                                                      std::string_view type) const {
    Layers layers;
    if (auto it = types.find(type); it != types.end()) layers.type = &it->second;
    if (auto it = users.find(user_id); it != users.end()) layers.user = &it->second;
    if (auto it = devices.find(device_id); it != devices.end()) layers.device = &it->second;
    return layers;
}

RuleSet ThresholdsConfig::resolve(const Layers& layers) const {
    RuleSet set;
    apply_layer(set, defaults);
    for (const RuleLayer* layer : {layers.type, layers.user, layers.device})
        if (layer) apply_layer(set, *layer);
    return set;
}

}  // namespace energyhub
