// Import and export from cumulative counters: resets, net registers that run backwards while a
// site exports, separate export counters, late readings, and state carried across a restart.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "near.hpp"
#include "pipeline/energy_counter.hpp"
#include "pipeline/enricher.hpp"

using namespace energyhub;
using energyhub::test::near;

namespace {

constexpr std::int64_t kMinute = 60'000;

Reading meter(std::int64_t ts, std::optional<double> power, std::optional<double> import_wh,
              std::optional<double> export_wh = std::nullopt) {
    Reading r;
    r.device_id = "house";
    r.ts_ms = ts;
    r.power_w = power;
    r.energy_wh = import_wh;
    r.energy_export_wh = export_wh;
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(energy_counter)

BOOST_AUTO_TEST_CASE(a_rising_counter_is_import) {
    CounterState st;
    BOOST_TEST(!advance_counters(st, meter(0, 500, 1000)).import_wh.has_value());  // nothing to compare with
    auto step = advance_counters(st, meter(kMinute, 500, 1008.3));
    BOOST_TEST(near(step.import_wh, 8.3));
    BOOST_TEST(!step.export_wh.has_value());
}

BOOST_AUTO_TEST_CASE(a_net_counter_running_backwards_while_exporting_is_export) {
    // A Tasmota net register: 2 kW exported for 5 minutes takes 166.7 Wh off the counter.
    CounterState st;
    advance_counters(st, meter(0, -2000, 514'153));
    auto step = advance_counters(st, meter(5 * kMinute, -2000, 513'986.3));
    BOOST_TEST(near(step.import_wh, 0.0));  // no spike the size of the counter
    BOOST_TEST(near(step.export_wh, 166.7));
    // Then the evening: the counter climbs again, and that is import.
    step = advance_counters(st, meter(10 * kMinute, 600, 514'036.3));
    BOOST_TEST(near(step.import_wh, 50.0));
}

BOOST_AUTO_TEST_CASE(export_seen_between_two_counters_counts) {
    // Power-only readings between two counter readings (a Shelly em status between two emdata).
    CounterState st;
    advance_counters(st, meter(0, 300, 20'000));
    advance_counters(st, meter(kMinute, -1500, std::nullopt));
    auto step = advance_counters(st, meter(2 * kMinute, 100, 19'980));
    BOOST_TEST(near(step.import_wh, 0.0));
    BOOST_TEST(near(step.export_wh, 20.0));
}

BOOST_AUTO_TEST_CASE(a_true_reset_is_still_a_reset) {
    CounterState st;
    advance_counters(st, meter(0, 56, 514'153));
    auto step = advance_counters(st, meter(kMinute, 56, 2));  // power loss or EnergyReset: 2 Wh since
    BOOST_TEST(near(step.import_wh, 2.0));
    BOOST_TEST(!step.export_wh.has_value());
}

BOOST_AUTO_TEST_CASE(a_reset_while_exporting_is_not_taken_for_export) {
    // The drop is far more than 1 kW could return in a minute.
    CounterState st;
    advance_counters(st, meter(0, -1000, 514'153));
    auto step = advance_counters(st, meter(kMinute, -1000, 3));
    BOOST_TEST(near(step.import_wh, 3.0));
    BOOST_TEST(!step.export_wh.has_value());
}

BOOST_AUTO_TEST_CASE(a_net_register_beside_an_export_counter_counts_export_once) {
    // Tasmota on a Shelly 3EM (ADE7880): Total runs backwards while ExportActive climbs. The export
    // is the export counter's rise, not that plus the drop.
    CounterState st;
    advance_counters(st, meter(0, std::nullopt, 10'000, 500));
    auto step = advance_counters(st, meter(kMinute, std::nullopt, 9'966.7, 533.3));
    BOOST_TEST(near(step.import_wh, 0.0));
    BOOST_TEST(near(step.export_wh, 33.3));
    // A reset of the import counter is still a reset: far more than the export counter rose.
    step = advance_counters(st, meter(2 * kMinute, std::nullopt, 5, 540));
    BOOST_TEST(near(step.import_wh, 5.0));
    BOOST_TEST(near(step.export_wh, 6.7));
    step = advance_counters(st, meter(3 * kMinute, -2000, 9, 1.5));  // the export counter reset
    BOOST_TEST(near(step.import_wh, 4.0));
    BOOST_TEST(near(step.export_wh, 1.5));
}

BOOST_AUTO_TEST_CASE(late_and_replayed_readings_move_nothing) {
    CounterState st;
    advance_counters(st, meter(2 * kMinute, -500, 1000, 50));
    auto step = advance_counters(st, meter(kMinute, 900, 2000, 10));
    BOOST_TEST(!step.import_wh.has_value());
    BOOST_TEST(!step.export_wh.has_value());
    step = advance_counters(st, meter(2 * kMinute, -500, 1000, 50));
    BOOST_TEST(!step.import_wh.has_value());
    BOOST_TEST(*st.import_wh == 1000.0);
    BOOST_TEST(*st.export_wh == 50.0);
}

BOOST_AUTO_TEST_CASE(the_stored_counters_carry_net_export_across_a_restart) {
    // The hub restarts: the enricher starts from the latest stored row (counter and power).
    struct Stored final : DeviceLookupPort {
        LookupStatus lookup(std::string_view, DeviceInfo& out) override {
            out.record = {"house", "alice", "grid", "Meter"};
            out.last_counters.ts_ms = 0;
            out.last_counters.import_wh = 514'153;
            out.last_counters.min_power_w = -2000;
            return LookupStatus::found;
        }
    } lookup;
    ManualClock clock;
    DeviceTable devices{10};
    Enricher enricher(devices, lookup, 1000, clock);
    EnrichedReading e;
    BOOST_REQUIRE(enricher.enrich(meter(5 * kMinute, -2000, 513'986.3), e) == LookupStatus::found);
    BOOST_TEST(near(e.energy_delta_wh, 0.0));
    BOOST_TEST(near(e.export_delta_wh, 166.7));
}

BOOST_AUTO_TEST_SUITE_END()
