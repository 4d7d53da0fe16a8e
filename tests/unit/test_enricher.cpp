#include <boost/test/unit_test.hpp>

#include <map>
#include <span>
#include <string>
#include <vector>

#include "domain/ids.hpp"
#include "pipeline/enricher.hpp"

using namespace energyhub;

namespace {

// A registry in memory that counts how often it is asked.
class FakeLookup final : public DeviceLookupPort {
public:
    std::map<std::string, DeviceInfo, std::less<>> devices;
    bool down = false;
    int calls = 0;
    std::vector<std::vector<std::string>> batches;  // what each lookup_many asked

    void lookup_many(std::span<const std::string> ids, std::vector<Result>& out) override {
        batches.emplace_back(ids.begin(), ids.end());
        DeviceLookupPort::lookup_many(ids, out);
    }

    LookupStatus lookup(std::string_view id, DeviceInfo& out) override {
        ++calls;
        if (down) return LookupStatus::unavailable;
        auto it = devices.find(parent_device_id(id));  // a channel is owned by its device
        if (it == devices.end()) return LookupStatus::unknown;
        out = it->second;
        return LookupStatus::found;
    }
};

// The devices of the messages waiting, as the pipeline would list them from the spool.
struct Waiting final : UpcomingDevices {
    std::vector<std::string> ids;
    void upcoming(std::size_t max, std::vector<std::string>& out) override {
        for (std::size_t i = 0; i < ids.size() && i < max; ++i) out.push_back(ids[i]);
    }
};

Reading reading(const std::string& id, std::int64_t ts, std::optional<double> energy) {
    Reading r;
    r.device_id = id;
    r.ts_ms = ts;
    r.power_w = 10;
    r.energy_wh = energy;
    return r;
}

struct EnricherFixture {
    FakeLookup lookup;
    ManualClock clock;
    DeviceTable devices{100};
    Enricher enricher{devices, lookup, 5000, clock};
    EnrichedReading out;

    EnricherFixture() { lookup.devices["plug"] = DeviceInfo{{"plug", "alice", "plug", "Desk"}, {}}; }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(enricher, EnricherFixture)

BOOST_AUTO_TEST_CASE(hits_come_from_the_cache) {
    BOOST_TEST((enricher.enrich(reading("plug", 1, std::nullopt), out) == LookupStatus::found));
    BOOST_TEST(out.user_id == "alice");
    BOOST_TEST((enricher.enrich(reading("plug", 2, std::nullopt), out) == LookupStatus::found));
    BOOST_TEST(lookup.calls == 1);
    BOOST_TEST(enricher.stats().hits == 1u);
}

BOOST_AUTO_TEST_CASE(unknown_devices_are_remembered_for_a_while) {
    BOOST_TEST((enricher.enrich(reading("ghost", 1, std::nullopt), out) == LookupStatus::unknown));
    BOOST_TEST((enricher.enrich(reading("ghost", 2, std::nullopt), out) == LookupStatus::unknown));
    BOOST_TEST(lookup.calls == 1);
    lookup.devices["ghost"] = DeviceInfo{{"ghost", "bob", "plug", ""}, {}};
    clock.advance(5001);
    BOOST_TEST((enricher.enrich(reading("ghost", 3, std::nullopt), out) == LookupStatus::found));
    BOOST_TEST(out.user_id == "bob");
}

BOOST_AUTO_TEST_CASE(unavailable_registry_is_not_unknown) {
    lookup.down = true;
    BOOST_TEST((enricher.enrich(reading("plug", 1, std::nullopt), out) == LookupStatus::unavailable));
    lookup.down = false;
    BOOST_TEST((enricher.enrich(reading("plug", 1, std::nullopt), out) == LookupStatus::found));
}

BOOST_AUTO_TEST_CASE(invalidate_forces_a_new_lookup) {
    enricher.enrich(reading("plug", 1, std::nullopt), out);
    lookup.devices["plug"].record.user_id = "carol";
    enricher.invalidate("plug");
    enricher.enrich(reading("plug", 2, std::nullopt), out);
    BOOST_TEST(out.user_id == "carol");
}

BOOST_AUTO_TEST_CASE(counter_deltas_handle_resets_and_late_readings) {
    lookup.devices["plug"].last_counters.ts_ms = 0;
    lookup.devices["plug"].last_counters.import_wh = 1000.0;
    enricher.enrich(reading("plug", 10, 1010.0), out);
    BOOST_TEST(*out.energy_delta_wh == 10.0);
    enricher.enrich(reading("plug", 20, 1025.5), out);
    BOOST_TEST(*out.energy_delta_wh == 15.5);
    enricher.enrich(reading("plug", 30, 3.0), out);  // counter reset: 3 Wh used since
    BOOST_TEST(*out.energy_delta_wh == 3.0);
    enricher.enrich(reading("plug", 25, 2000.0), out);  // late: carries no usage, moves nothing
    BOOST_TEST(!out.energy_delta_wh.has_value());
    enricher.enrich(reading("plug", 40, 4.0), out);
    BOOST_TEST(*out.energy_delta_wh == 1.0);
}

BOOST_AUTO_TEST_CASE(first_counter_without_history_has_no_delta) {
    enricher.enrich(reading("plug", 10, 500.0), out);
    BOOST_TEST(!out.energy_delta_wh.has_value());
    enricher.enrich(reading("plug", 20, 501.0), out);
    BOOST_TEST(*out.energy_delta_wh == 1.0);
}

BOOST_AUTO_TEST_CASE(a_miss_looks_up_the_waiting_devices_in_the_same_call) {
    Waiting waiting;
    DeviceTable table{1000};
    Enricher batched{table, lookup, 5000, clock, &waiting};
    for (int i = 0; i < 10; ++i) {
        auto id = "plug-" + std::to_string(i);
        lookup.devices[id] = DeviceInfo{{id, "alice", "plug", ""}, {}};
        waiting.ids.push_back(id);
    }
    // Repeats, a channel of a device already asked, an unknown one and the missed device itself.
    waiting.ids.insert(waiting.ids.end(), {"plug-3", "plug-0", "ghost", "plug-4:1"});
    BOOST_TEST((batched.enrich(reading("plug-0", 1, std::nullopt), out) == LookupStatus::found));
    BOOST_REQUIRE(lookup.batches.size() == 1u);
    BOOST_TEST(lookup.batches[0].front() == "plug-0");
    BOOST_TEST(lookup.batches[0].size() == 12u);  // plug-0..9, ghost, plug-4:1: each once
    for (int i = 1; i < 10; ++i)
        BOOST_TEST((batched.enrich(reading("plug-" + std::to_string(i), 1, std::nullopt), out) == LookupStatus::found));
    BOOST_TEST((batched.enrich(reading("ghost", 1, std::nullopt), out) == LookupStatus::unknown));
    BOOST_TEST((batched.enrich(reading("plug-4:1", 1, std::nullopt), out) == LookupStatus::found));
    BOOST_TEST(lookup.batches.size() == 1u);  // all of them from the first call
    BOOST_TEST(batched.stats().hits == 11u);
}

BOOST_AUTO_TEST_CASE(a_lookup_batch_takes_at_most_a_quarter_of_the_cache) {
    Waiting waiting;
    DeviceTable table{100};
    Enricher batched{table, lookup, 5000, clock, &waiting};
    for (int i = 0; i < 100; ++i) waiting.ids.push_back("plug-" + std::to_string(i));
    batched.enrich(reading("plug", 1, std::nullopt), out);
    BOOST_REQUIRE(lookup.batches.size() == 1u);
    BOOST_TEST(lookup.batches[0].size() == 25u);
    BOOST_TEST(out.user_id == "alice");  // the device asked for is not displaced by the others
}

BOOST_AUTO_TEST_CASE(an_unavailable_registry_caches_nothing_of_the_batch) {
    Waiting waiting;
    waiting.ids = {"plug"};
    DeviceTable table{1000};
    Enricher batched{table, lookup, 5000, clock, &waiting};
    lookup.devices["other"] = DeviceInfo{{"other", "bob", "plug", ""}, {}};
    lookup.down = true;
    BOOST_TEST((batched.enrich(reading("other", 1, std::nullopt), out) == LookupStatus::unavailable));
    lookup.down = false;
    BOOST_TEST((batched.enrich(reading("plug", 1, std::nullopt), out) == LookupStatus::found));
    BOOST_TEST(lookup.batches.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
