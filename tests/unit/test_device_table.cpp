// The device table: one slot per (sub-)device shared by the enricher, the rules and the announcer.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "config/config.hpp"
#include "pipeline/device_announcer.hpp"
#include "pipeline/device_table.hpp"
#include "pipeline/enricher.hpp"
#include "pipeline/rule_engine.hpp"
#include "test_time.hpp"
#include "util/clock.hpp"

using namespace energyhub;
using energyhub::test::kNow;
using energyhub::test::UtcDays;

namespace {

struct EveryDevice final : DeviceLookupPort {
    LookupStatus lookup(std::string_view id, DeviceInfo& out) override {
        out.record = {std::string(parent_device_id(id)), "alice", "plug", ""};
        return LookupStatus::found;
    }
};

struct Discard final : MessageSink {
    std::size_t sent = 0;
    void publish(const std::string&, std::string_view, int, bool) override { ++sent; }
};

struct TableFixture {
    DeviceTable table{64};
    EveryDevice lookup;
    ManualClock clock;
    UtcDays days;
    Discard sink;
    Enricher enricher{table, lookup, 1000, clock};
    RuleEngine rules{
        table,
        std::make_shared<const ThresholdsConfig>(
            parse_config("thresholds:\n  defaults: {device_offline: {after: 10m}}\n", "t.yaml").thresholds),
        days};
    DeviceAnnouncer announcer{HaDiscoverySettings{}, false, sink, table};
    std::vector<Alert> alerts;

    void read(const std::string& id, std::int64_t ts) {
        Reading r;
        r.device_id = id;
        r.ts_ms = ts;
        r.power_w = 5;
        EnrichedReading e;
        BOOST_REQUIRE(enricher.enrich(r, e) == LookupStatus::found);
        rules.on_reading(e, e.device_type, alerts);
        announcer.on_reading(r, *enricher.record(id));
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(device_table, TableFixture)

BOOST_AUTO_TEST_CASE(a_device_has_one_slot_for_all_three_components) {
    read("plug", kNow);
    BOOST_TEST(table.size() == 1u);
    const DeviceSlot* slot = table.find("plug");
    BOOST_REQUIRE(slot);
    BOOST_TEST((slot->owner.registry == OwnerState::Registry::known));
    BOOST_TEST(*slot->owner.user_id == "alice");
    BOOST_TEST(slot->rules.rules != nullptr);
    BOOST_TEST(slot->rules.last_seen_ms == kNow);
    BOOST_TEST(slot->announced.availability == 1);
    BOOST_TEST(sink.sent == 1u);  // the availability, once
}

BOOST_AUTO_TEST_CASE(the_least_recent_device_goes_with_all_it_held) {
    for (int i = 0; i < 65; ++i) read("plug-" + std::to_string(i), kNow + i);
    BOOST_TEST(table.size() == 64u);
    BOOST_TEST(rules.devices() == 64u);  // the rules are bounded by the table too
    BOOST_TEST(table.find("plug-0") == nullptr);
    // Met again, it is looked up and announced again as new.
    const auto sent = sink.sent;
    read("plug-0", kNow + 100);
    BOOST_TEST(sink.sent == sent + 1);
}

BOOST_AUTO_TEST_CASE(a_removed_device_goes_with_its_channels_only) {
    for (const char* id : {"meter", "meter:1", "meter:2", "meterx", "other:1"}) read(id, kNow);
    table.erase_with_channels("meter");
    BOOST_TEST(table.find("meter") == nullptr);
    BOOST_TEST(table.find("meter:1") == nullptr);
    BOOST_TEST(table.find("meter:2") == nullptr);
    BOOST_TEST(table.find("meterx") != nullptr);
    BOOST_TEST(table.find("other:1") != nullptr);
    BOOST_TEST(table.find("other") != nullptr);  // a channel's owner is the device's slot
}

BOOST_AUTO_TEST_CASE(offline_checks_see_every_device_without_reordering_them) {
    read("a", kNow);
    read("b", kNow + 20 * 60'000);
    rules.check_offline(kNow + 25 * 60'000, alerts);
    BOOST_REQUIRE(alerts.size() == 1u);
    BOOST_TEST(alerts[0].device_id == "a");
    // "a" is still the least recent: the device that fills the table past its size takes its place.
    for (int i = 0; i < 63; ++i) read("c-" + std::to_string(i), kNow + 30 * 60'000);
    BOOST_TEST(table.size() == 64u);
    BOOST_TEST(table.find("a") == nullptr);
    BOOST_TEST(table.find("b") != nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
