#include <boost/test/unit_test.hpp>

#include <map>

#include "config/config.hpp"
#include "pipeline/enricher.hpp"
#include "pipeline/rule_engine.hpp"

using namespace energyhub;

namespace {

constexpr std::int64_t kT0 = 1'764'324'000'000;  // 2025-11-28T10:00:00Z
constexpr std::int64_t kMin = 60'000;

// Days start at midnight UTC, or earlier by a zone's fixed offset.
class FixedDays final : public LocalDayPort {
public:
    std::map<std::string, std::int64_t, std::less<>> offsets_ms;  // zone -> UTC offset
    std::vector<std::string> asked;
    std::pair<std::int64_t, std::int64_t> day_of(std::string_view zone, std::int64_t ts) override {
        asked.emplace_back(zone);
        auto it = offsets_ms.find(zone);
        const auto offset = it == offsets_ms.end() ? 0 : it->second;
        auto start = (ts + offset) / 86'400'000 * 86'400'000 - offset;
        return {start, start + 86'400'000};
    }
};

ThresholdsConfig thresholds(const std::string& yaml) {
    return parse_config("thresholds:\n" + yaml, "t.yaml").thresholds;
}

// A rule engine with a device table of its own.
struct OwnTable {
    DeviceTable table{1000};
};
struct TestEngine : OwnTable, RuleEngine {
    TestEngine(std::shared_ptr<const ThresholdsConfig> t, LocalDayPort& days) : RuleEngine(table, std::move(t), days) {}
};

struct RulesFixture {
    FixedDays days;
    std::vector<Alert> out;

    TestEngine engine(const std::string& yaml) {
        return TestEngine(std::make_shared<const ThresholdsConfig>(thresholds(yaml)), days);
    }
    static EnrichedReading reading(std::int64_t ts, std::optional<double> power, std::optional<double> delta = {}) {
        EnrichedReading r;
        r.reading.device_id = "kettle-1";
        r.reading.ts_ms = ts;
        r.reading.power_w = power;
        r.user_id = "alice";
        r.device_type = "kettle";
        r.energy_delta_wh = delta;
        return r;
    }
    std::size_t count(RuleKind rule, AlertState state) const {
        std::size_t n = 0;
        for (const auto& a : out) n += a.rule == rule && a.state == state;
        return n;
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(rule_engine, RulesFixture)

BOOST_AUTO_TEST_CASE(power_above_fires_once_after_hold_and_resolves_once) {
    auto e = engine("  defaults: {power_above: {watts: 2000, for: 3m, clear_below: 1800}}\n");
    e.on_reading(reading(kT0, 2500), "kettle", out);
    e.on_reading(reading(kT0 + 2 * kMin, 2600), "kettle", out);
    BOOST_TEST(out.empty());  // not for 3 minutes yet
    e.on_reading(reading(kT0 + 3 * kMin, 2700), "kettle", out);
    BOOST_REQUIRE(out.size() == 1u);
    BOOST_TEST((out[0].state == AlertState::firing));
    BOOST_TEST(out[0].since_ms == kT0);
    BOOST_TEST(out[0].value == 2700);
    BOOST_TEST(out[0].threshold == 2000);
    for (int i = 4; i < 20; ++i)
        e.on_reading(reading(kT0 + i * kMin, i % 2 ? 2100 : 1900), "kettle", out);  // flapping in the band
    BOOST_TEST(out.size() == 1u);
    e.on_reading(reading(kT0 + 21 * kMin, 1500), "kettle", out);
    BOOST_REQUIRE(out.size() == 2u);
    BOOST_TEST((out[1].state == AlertState::resolved));
    BOOST_TEST(out[1].since_ms == kT0);
    e.on_reading(reading(kT0 + 22 * kMin, 100), "kettle", out);
    BOOST_TEST(out.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_dip_below_the_threshold_restarts_the_hold) {
    auto e = engine("  defaults: {power_above: {watts: 2000, for: 3m}}\n");
    e.on_reading(reading(kT0, 2500), "kettle", out);
    e.on_reading(reading(kT0 + 2 * kMin, 1950), "kettle", out);
    e.on_reading(reading(kT0 + 4 * kMin, 2500), "kettle", out);
    e.on_reading(reading(kT0 + 6 * kMin, 2500), "kettle", out);
    BOOST_TEST(out.empty());
    e.on_reading(reading(kT0 + 7 * kMin, 2500), "kettle", out);
    BOOST_TEST(count(RuleKind::power_above, AlertState::firing) == 1u);
}

BOOST_AUTO_TEST_CASE(replayed_and_late_readings_change_nothing) {
    auto e = engine("  defaults: {power_above: {watts: 2000}}\n");
    e.on_reading(reading(kT0, 2500), "kettle", out);
    BOOST_TEST(out.size() == 1u);
    e.on_reading(reading(kT0 - kMin, 100), "kettle", out);  // older: no resolve
    e.on_reading(reading(kT0, 2500), "kettle", out);        // the same again
    BOOST_TEST(out.size() == 1u);
}

BOOST_AUTO_TEST_CASE(alert_ids_are_stable) {
    auto a = alert_id("kettle-1", RuleKind::power_above, AlertState::firing, kT0);
    BOOST_TEST(a == alert_id("kettle-1", RuleKind::power_above, AlertState::firing, kT0));
    BOOST_TEST(a != alert_id("kettle-1", RuleKind::power_above, AlertState::resolved, kT0));
    BOOST_TEST(a.size() == 36u);
    BOOST_TEST(a[14] == '4');
}

BOOST_AUTO_TEST_CASE(daily_energy_counts_real_usage_across_a_counter_reset) {
    // Enricher and rules together: the counter goes 1000 → 6000 Wh, resets to 0, climbs to 7000.
    struct OneDevice final : DeviceLookupPort {
        LookupStatus lookup(std::string_view, DeviceInfo& out) override {
            out.record = {"kettle-1", "alice", "kettle", ""};
            return LookupStatus::found;
        }
    } lookup;
    ManualClock clock;
    auto e = engine("  defaults: {daily_energy_above: {kwh: 12}}\n");
    Enricher enricher(e.table, lookup, 1000, clock);
    EnrichedReading r;
    auto feed = [&](std::int64_t ts, double counter) {
        Reading raw;
        raw.device_id = "kettle-1";
        raw.ts_ms = ts;
        raw.energy_wh = counter;
        BOOST_REQUIRE((enricher.enrich(raw, r) == LookupStatus::found));
        e.on_reading(r, "kettle", out);
    };
    feed(kT0, 1000);
    feed(kT0 + kMin, 6000);      // 5 kWh
    feed(kT0 + 2 * kMin, 0);     // reset: 0 used
    feed(kT0 + 3 * kMin, 6000);  // 11 kWh today
    BOOST_TEST(out.empty());     // a naive max-min or a negative jump would be wrong here
    feed(kT0 + 4 * kMin, 7500);  // 12.5 kWh
    BOOST_REQUIRE(out.size() == 1u);
    BOOST_TEST((out[0].rule == RuleKind::daily_energy_above));
    BOOST_TEST(out[0].value == 12.5);
    feed(kT0 + 86'400'000, 7600);  // next day: resolved once
    BOOST_TEST(count(RuleKind::daily_energy_above, AlertState::resolved) == 1u);
}

BOOST_AUTO_TEST_CASE(daily_energy_integrates_power_without_a_counter) {
    auto e = engine("  defaults: {daily_energy_above: {kwh: 1}}\n");
    for (int i = 0; i <= 28; ++i) e.on_reading(reading(kT0 + i * kMin, 2100), "kettle", out);  // 0.98 kWh
    BOOST_TEST(out.empty());
    e.on_reading(reading(kT0 + 29 * kMin, 2100), "kettle", out);  // 2.1 kW for 29 min: 1.015 kWh
    BOOST_REQUIRE(out.size() == 1u);
    BOOST_TEST(out[0].value == 1.015, boost::test_tools::tolerance(1e-9));
}

// 10:00 and 12:00 UTC are one day in London and two in Auckland (UTC+13 in November).
BOOST_AUTO_TEST_CASE(daily_energy_counts_the_owners_local_day) {
    days.offsets_ms["Pacific/Auckland"] = 13 * 60 * kMin;
    for (std::string zone : {"Europe/London", "Pacific/Auckland"}) {
        auto e = engine("  defaults: {daily_energy_above: {kwh: 1}}\n");
        out.clear();
        days.asked.clear();
        for (auto ts : {kT0, kT0 + 120 * kMin}) {
            auto r = reading(ts, {}, 600);
            r.time_zone = zone;
            e.on_reading(r, "kettle", out);
        }
        BOOST_TEST(days.asked.front() == zone);
        BOOST_TEST(out.size() == (zone == "Europe/London" ? 1u : 0u), zone);
    }
}

BOOST_AUTO_TEST_CASE(offline_fires_after_silence_and_resolves_on_the_next_reading) {
    auto e = engine("  defaults: {device_offline: {after: 10m}}\n");
    e.on_reading(reading(kT0, 5), "kettle", out);
    e.check_offline(kT0 + 9 * kMin, out);
    BOOST_TEST(out.empty());
    e.check_offline(kT0 + 11 * kMin, out);
    e.check_offline(kT0 + 12 * kMin, out);
    BOOST_REQUIRE(out.size() == 1u);
    BOOST_TEST((out[0].rule == RuleKind::device_offline));
    e.on_reading(reading(kT0 + 13 * kMin, 5), "kettle", out);
    BOOST_TEST(count(RuleKind::device_offline, AlertState::resolved) == 1u);
}

BOOST_AUTO_TEST_CASE(a_restart_does_not_fire_offline_for_every_device) {
    auto e = engine("  defaults: {device_offline: {after: 10m}}\n");
    // Last seen an hour before the hub started; the hub started just now.
    e.seed_device("kettle-1", "alice", "kettle", kT0 - 60 * kMin, kT0);
    e.check_offline(kT0 + kMin, out);
    BOOST_TEST(out.empty());
    e.check_offline(kT0 + 11 * kMin, out);
    BOOST_TEST(out.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_restored_firing_alert_is_not_fired_again) {
    auto e = engine("  defaults: {power_above: {watts: 2000}}\n");
    Alert open;
    open.device_id = "kettle-1";
    open.user_id = "alice";
    open.rule = RuleKind::power_above;
    open.since_ms = kT0 - kMin;
    open.threshold = 2000;
    e.restore_firing(open);
    e.on_reading(reading(kT0, 2500), "kettle", out);
    BOOST_TEST(out.empty());
    e.on_reading(reading(kT0 + kMin, 100), "kettle", out);
    BOOST_REQUIRE(out.size() == 1u);
    BOOST_TEST(out[0].id == alert_id("kettle-1", RuleKind::power_above, AlertState::resolved, kT0 - kMin));
}

BOOST_AUTO_TEST_CASE(spike_against_the_moving_baseline) {
    auto e = engine("  defaults: {spike: {factor: 4, baseline: 15m, min_watts: 100}}\n");
    e.on_reading(reading(kT0, 100), "kettle", out);
    e.on_reading(reading(kT0 + 5 * kMin, 500), "kettle", out);  // not warmed up: no baseline yet
    BOOST_TEST(out.empty());
    for (int i = 6; i <= 60; ++i) e.on_reading(reading(kT0 + i * kMin, 100), "kettle", out);
    e.on_reading(reading(kT0 + 61 * kMin, 350), "kettle", out);  // 3.5x: not a spike
    e.on_reading(reading(kT0 + 62 * kMin, 100), "kettle", out);
    BOOST_TEST(out.empty());
    e.on_reading(reading(kT0 + 63 * kMin, 500), "kettle", out);  // above 4x the ~115 W baseline
    BOOST_REQUIRE(out.size() == 1u);
    BOOST_TEST((out[0].rule == RuleKind::spike && out[0].state == AlertState::firing));
    BOOST_TEST((out[0].threshold > 100 && out[0].threshold < 125));  // the 350 W step moved it a little
    e.on_reading(reading(kT0 + 64 * kMin, 510), "kettle", out);      // still high: no repeat
    e.on_reading(reading(kT0 + 65 * kMin, 300), "kettle", out);      // above clear_factor 2.5x: holds
    BOOST_TEST(out.size() == 1u);
    e.on_reading(reading(kT0 + 66 * kMin, 120), "kettle", out);
    BOOST_TEST(count(RuleKind::spike, AlertState::resolved) == 1u);
}

BOOST_AUTO_TEST_CASE(no_spike_from_an_exporting_baseline) {
    // A grid meter that exported through the afternoon: the evening's 500 W import is not a spike.
    auto e = engine("  defaults: {spike: {factor: 4, baseline: 15m, min_watts: 100}}\n");
    for (int i = 0; i <= 60; ++i) e.on_reading(reading(kT0 + i * kMin, -2000), "grid", out);
    e.on_reading(reading(kT0 + 61 * kMin, 500), "grid", out);
    BOOST_TEST(out.empty());
}

BOOST_AUTO_TEST_CASE(devices_with_the_same_layers_share_one_rule_set) {
    auto e = engine(
        "  defaults: {power_above: {watts: 2000, for: 0s}}\n"
        "  types: {heater: {power_above: {watts: 3000, for: 0s}}}\n"
        "  devices: {plug-7: {power_above: {watts: 100, for: 0s}}}\n");
    auto at = [&](int i, double watts, std::int64_t ts) {
        auto r = reading(ts, watts);
        r.reading.device_id = "plug-" + std::to_string(i);
        r.device_type = i % 2 ? "plug" : "heater";
        e.on_reading(r, r.device_type, out);
    };
    for (int i = 0; i < 100; ++i) at(i, 150, kT0);
    BOOST_TEST(e.distinct_rule_sets() == 3u);  // plugs, heaters, and plug-7 with its own
    BOOST_REQUIRE(out.size() == 1u);           // each has the rules of its layers
    BOOST_TEST(out[0].device_id == "plug-7");
    out.clear();
    at(1, 2500, kT0 + kMin);  // a plug: above 2000
    at(2, 2500, kT0 + kMin);  // a heater: below 3000
    BOOST_REQUIRE(out.size() == 1u);
    BOOST_TEST(out[0].device_id == "plug-1");
    BOOST_TEST(out[0].user_id == "alice");
}

BOOST_AUTO_TEST_CASE(reloaded_thresholds_apply_to_the_next_reading) {
    auto e = engine("  defaults: {power_above: {watts: 3000}}\n");
    e.on_reading(reading(kT0, 2500), "kettle", out);
    BOOST_TEST(out.empty());
    e.set_thresholds(
        std::make_shared<const ThresholdsConfig>(thresholds("  defaults: {power_above: {watts: 2000}}\n")));
    e.on_reading(reading(kT0 + kMin, 2500), "kettle", out);
    BOOST_TEST(out.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
