// The ingest core without servers (pipeline/ingest_pipeline.hpp): fakes for the registry, the
// reading store, the local days and the message sink, and a manual clock. The failure paths are
// the point: a registry or a store that cannot answer keeps everything for the next try and
// publishes no state early; an alert is announced once decided; a replay after a restart stores
// nothing twice and announces no alert twice.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "config/config.hpp"
#include "domain/ids.hpp"
#include "pipeline/ingest_pipeline.hpp"
#include "pipeline/spool.hpp"
#include "test_time.hpp"

using namespace energyhub;
using energyhub::test::UtcDays;

namespace {

class Registry final : public DeviceLookupPort {
public:
    std::map<std::string, DeviceRecord, std::less<>> devices;
    bool down = false;
    LookupStatus lookup(std::string_view id, DeviceInfo& out) override {
        if (down) return LookupStatus::unavailable;
        auto it = devices.find(parent_device_id(id));
        if (it == devices.end()) return LookupStatus::unknown;
        out.record = it->second;
        return LookupStatus::found;
    }
};

// A table with a primary key on (device, ts), and alerts keyed like the alerts table.
class Table final : public ReadingStorePort {
public:
    bool down = false;
    std::set<std::pair<std::string, std::int64_t>> rows;
    std::vector<EnrichedReading> stored;
    std::set<std::tuple<std::string, int, int, std::int64_t>> alerts;
    int writes = 0;

    StoreOutcome write(std::span<const EnrichedReading> batch, std::span<const Alert> new_alerts) override {
        ++writes;
        StoreOutcome out;
        if (down) {
            out.error = "connection refused";
            return out;
        }
        for (const auto& e : batch) {
            if (rows.insert({e.reading.device_id, e.reading.ts_ms}).second) {
                stored.push_back(e);
                ++out.result.inserted;
            } else {
                ++out.result.duplicates;
            }
        }
        for (std::size_t i = 0; i < new_alerts.size(); ++i) {
            const auto& a = new_alerts[i];
            if (alerts.insert({a.device_id, static_cast<int>(a.rule), static_cast<int>(a.state), a.ts_ms}).second)
                out.result.new_alerts.push_back(i);
        }
        out.stored = true;
        return out;
    }
};

class Sink final : public MessageSink {
public:
    struct Message {
        std::string topic, payload;
        int qos;
        bool retained;
    };
    std::vector<Message> messages;
    std::size_t queued = 0;  // the backlog it reports
    void publish(const std::string& topic, std::string_view payload, int qos, bool retained) override {
        messages.push_back({topic, std::string(payload), qos, retained});
    }
    std::size_t backlog() const override { return queued; }
    const Message* first(const std::string& prefix) const {
        for (const auto& m : messages)
            if (m.topic.rfind(prefix, 0) == 0) return &m;
        return nullptr;
    }
    const Message* last(const std::string& prefix) const {
        for (auto m = messages.rbegin(); m != messages.rend(); ++m)
            if (m->topic.rfind(prefix, 0) == 0) return &*m;
        return nullptr;
    }
    std::size_t count(const std::string& prefix) const {
        std::size_t n = 0;
        for (const auto& m : messages) n += m.topic.rfind(prefix, 0) == 0;
        return n;
    }
};

Config test_config() {
    return parse_config(R"(
mqtt:
  topics: {discovery_prefix: ''}
hub:
  batch_size: 100
  flush_interval: 200ms
thresholds:
  devices:
    plug-1: {power_above: {watts: 1000}}
)",
                        "test.yaml");
}

struct PipelineFixture {
    Config config = test_config();
    Registry registry;
    UtcDays days;
    Table table;
    Sink sink;
    ManualClock clock;
    IngestMetrics metrics;
    std::unique_ptr<IngestPipeline> pipeline;

    PipelineFixture() {
        registry.devices["plug-1"] = DeviceRecord{"plug-1", "ann", "kettle", "Kettle"};
        restart();
    }
    // A new pipeline, as after a hub restart: nothing in memory, the table as it was.
    void restart() {
        pipeline = std::make_unique<IngestPipeline>(config, IngestPorts{registry, days, table, sink, clock}, metrics);
    }

    IngestPipeline::Offer offer(const std::string& device, double watts, std::int64_t ts_offset_ms,
                                std::uint16_t flags = 0) {
        const auto ts = clock.now_ms() + ts_offset_ms;
        return pipeline->offer(clock.now_ms(), "energy/" + device + "/reading",
                               "{\"ts\":" + std::to_string(ts) + ",\"power_w\":" + std::to_string(watts) + "}", flags);
    }
    IngestPipeline::Store store_and_publish() {
        auto r = pipeline->store();
        if (r == IngestPipeline::Store::stored) pipeline->publish_stored();
        return r;
    }
};

using Offer = IngestPipeline::Offer;
using Store = IngestPipeline::Store;

}  // namespace

BOOST_FIXTURE_TEST_SUITE(ingest_pipeline, PipelineFixture)

BOOST_AUTO_TEST_CASE(a_reading_is_stored_with_its_owner_then_its_state_published) {
    BOOST_TEST((offer("plug-1", 12.5, -1000) == Offer::done));
    BOOST_TEST(sink.count("energy/ann/plug-1/state") == 0u);  // no state before it is stored
    BOOST_TEST((store_and_publish() == Store::stored));
    BOOST_REQUIRE_EQUAL(table.stored.size(), 1u);
    BOOST_TEST(table.stored[0].user_id == "ann");
    BOOST_TEST(table.stored[0].device_type == "kettle");
    BOOST_REQUIRE_EQUAL(sink.count("energy/ann/plug-1/state"), 1u);
    const auto* state = sink.first("energy/ann/plug-1/state");
    BOOST_TEST(state->retained);
    BOOST_TEST(state->payload.find("\"power_w\":12.5") != std::string::npos);
    BOOST_TEST(metrics.stored == 1u);
    BOOST_TEST((pipeline->store() == Store::nothing));
}

// A sink far behind (a fleet's first minutes) gets no state; the device's next reading brings it.
BOOST_AUTO_TEST_CASE(no_state_is_queued_while_the_sink_is_far_behind) {
    sink.queued = 20'000;
    BOOST_TEST((offer("plug-1", 12.5, -2000) == Offer::done));
    BOOST_TEST((store_and_publish() == Store::stored));
    BOOST_TEST(sink.count("energy/ann/plug-1/state") == 0u);
    BOOST_TEST(metrics.states_skipped == 1u);
    sink.queued = 19'999;
    clock.advance(config.hub.state_interval.count());
    BOOST_TEST((offer("plug-1", 13.5, -1000) == Offer::done));
    BOOST_TEST((store_and_publish() == Store::stored));
    BOOST_REQUIRE_EQUAL(sink.count("energy/ann/plug-1/state"), 1u);
    BOOST_TEST(sink.first("energy/ann/plug-1/state")->payload.find("\"power_w\":13.5") != std::string::npos);
}

// A device reporting faster than hub.state_interval: its first state at once, then its newest
// reading once the interval has passed, even with no batch after it.
BOOST_AUTO_TEST_CASE(a_state_goes_out_at_most_once_per_interval_with_the_newest_reading) {
    const auto interval = config.hub.state_interval.count();
    BOOST_REQUIRE(interval >= 100);
    BOOST_TEST((offer("plug-1", 10, -300) == Offer::done));
    BOOST_TEST((store_and_publish() == Store::stored));
    BOOST_TEST(sink.count("energy/ann/plug-1/state") == 1u);
    for (double watts : {11.0, 13.0, 12.0}) {
        clock.advance(interval / 10);
        BOOST_TEST((offer("plug-1", watts, watts == 12.0 ? -150 : 0) == Offer::done));  // 12 W is older
        BOOST_TEST((store_and_publish() == Store::stored));
    }
    BOOST_TEST(sink.count("energy/ann/plug-1/state") == 1u);  // held
    BOOST_TEST(table.stored.size() == 4u);                    // stored all the same
    pipeline->publish_held_states();
    BOOST_TEST(sink.count("energy/ann/plug-1/state") == 1u);
    clock.advance(interval);
    pipeline->publish_held_states();
    BOOST_REQUIRE_EQUAL(sink.count("energy/ann/plug-1/state"), 2u);
    BOOST_TEST(sink.last("energy/ann/plug-1/state")->payload.find("\"power_w\":13") != std::string::npos);
    pipeline->publish_held_states(true);  // nothing left to say
    BOOST_TEST(sink.count("energy/ann/plug-1/state") == 2u);
}

// A device removed while its newest state is held: the state is not published after the removal.
BOOST_AUTO_TEST_CASE(a_removed_device_has_no_held_state_published) {
    BOOST_TEST((offer("plug-1", 10, -100) == Offer::done));
    BOOST_TEST((store_and_publish() == Store::stored));
    BOOST_TEST((offer("plug-1", 11, 0) == Offer::done));
    BOOST_TEST((store_and_publish() == Store::stored));
    pipeline->device_changed("plug-1", true);
    clock.advance(config.hub.state_interval.count());
    pipeline->publish_held_states();
    BOOST_TEST(sink.count("energy/ann/plug-1/state") == 1u);
}

// Held states are bounded like the sink's queue: of a fleet met within one interval at most
// 20,000 are held; the others come with their devices' next readings.
BOOST_AUTO_TEST_CASE(held_states_are_bounded) {
    BOOST_TEST((offer("plug-1", 10, 0) == Offer::done));
    BOOST_TEST((store_and_publish() == Store::stored));  // the next states are an interval away
    for (int i = 0; i < 20'005; ++i) {
        const auto id = "d" + std::to_string(i);
        registry.devices[id] = DeviceRecord{id, "ann", "meter", id};
        auto offered = offer(id, 1, 0);
        if (offered == Offer::batch_full) {
            BOOST_REQUIRE((store_and_publish() == Store::stored));
            offered = offer(id, 1, 0);
        }
        BOOST_REQUIRE((offered == Offer::done));
    }
    BOOST_REQUIRE((store_and_publish() == Store::stored));
    BOOST_TEST(table.stored.size() == 20'006u);
    BOOST_TEST(metrics.states_skipped == 5u);
    clock.advance(config.hub.state_interval.count());
    pipeline->publish_held_states();
    auto fleet_states = std::count_if(sink.messages.begin(), sink.messages.end(), [](const auto& m) {
        return m.topic.rfind("energy/ann/d", 0) == 0 && m.topic.ends_with("/state");
    });
    BOOST_TEST(fleet_states == 20'000);
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused_with_a_reason_and_the_next_reading_still_stored) {
    BOOST_TEST((pipeline->offer(clock.now_ms(), "energy/plug-1/reading", "{\"power_w\": oops", 0) == Offer::done));
    BOOST_TEST((offer("ghost", 5, 0) == Offer::done));
    BOOST_TEST((offer("plug-1", 5, 0) == Offer::done));
    BOOST_TEST(metrics.rejected[static_cast<std::size_t>(RejectReason::malformed_json)] == 1u);
    BOOST_TEST(metrics.rejected[static_cast<std::size_t>(RejectReason::unknown_device)] == 1u);
    BOOST_TEST(sink.count(config.mqtt.deadletter_topic) == 2u);
    BOOST_TEST((store_and_publish() == Store::stored));
    BOOST_TEST(table.stored.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_registry_that_cannot_answer_keeps_nothing_and_asks_for_a_retry) {
    registry.down = true;
    BOOST_TEST((offer("plug-1", 5, 0) == Offer::retry_later));
    BOOST_TEST(!pipeline->has_work());
    BOOST_TEST(metrics.lookup_stalls == 1u);
    BOOST_TEST(metrics.rejected_total() == 0u);  // not taken for an unknown device
    registry.down = false;
    BOOST_TEST((offer("plug-1", 5, 0) == Offer::done));
    BOOST_TEST((store_and_publish() == Store::stored));
    BOOST_TEST(table.stored.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_store_that_cannot_answer_keeps_the_batch_and_its_alerts_and_no_state_goes_out_early) {
    BOOST_TEST((offer("plug-1", 1500, 0) == Offer::done));  // above 1000 W: an alert fires
    // Announced as soon as decided, not after the batch's transaction.
    BOOST_TEST(sink.count("alerts/ann/plug-1") == 1u);
    table.down = true;
    BOOST_TEST((pipeline->store() == Store::unavailable));
    BOOST_TEST((pipeline->store() == Store::unavailable));
    BOOST_TEST(metrics.store_failures == 2u);
    // No state before it is stored.
    BOOST_TEST(sink.count("energy/ann/plug-1/state") == 0u);
    BOOST_TEST(pipeline->has_batch());
    table.down = false;
    BOOST_TEST((store_and_publish() == Store::stored));
    BOOST_TEST(table.stored.size() == 1u);
    BOOST_TEST(table.alerts.size() == 1u);
    BOOST_TEST(sink.count("energy/ann/plug-1/state") == 1u);
    BOOST_TEST(sink.count("alerts/ann/plug-1") == 1u);
    BOOST_TEST(metrics.alerts_fired == 1u);
}

BOOST_AUTO_TEST_CASE(a_replay_after_a_restart_stores_nothing_twice_and_announces_no_alert_twice) {
    BOOST_TEST((offer("plug-1", 1500, -2000) == Offer::done));
    BOOST_TEST((offer("plug-1", 1600, -1000) == Offer::done));
    BOOST_TEST((store_and_publish() == Store::stored));
    BOOST_TEST(sink.count("alerts/") == 1u);
    // Killed before the spool position moved: the same two readings come again, from the spool.
    restart();
    BOOST_TEST((offer("plug-1", 1500, -2000, kSpoolReplayed) == Offer::done));
    BOOST_TEST((offer("plug-1", 1600, -1000, kSpoolReplayed) == Offer::done));
    BOOST_TEST((store_and_publish() == Store::stored));
    BOOST_TEST(table.stored.size() == 2u);
    BOOST_TEST(metrics.duplicates == 2u);
    BOOST_TEST(sink.count("alerts/") == 1u);  // re-derived, found stored, not announced again
}

BOOST_AUTO_TEST_CASE(a_replayed_alert_the_hub_decided_but_never_stored_is_announced_once_stored) {
    table.down = true;
    BOOST_TEST((offer("plug-1", 1500, -2000) == Offer::done));
    BOOST_TEST(sink.count("alerts/") == 1u);  // announced, then killed before its transaction
    restart();
    table.down = false;
    BOOST_TEST((offer("plug-1", 1500, -2000, kSpoolReplayed) == Offer::done));
    BOOST_TEST(sink.count("alerts/") == 1u);  // not yet: it may have been stored before the kill
    BOOST_TEST((store_and_publish() == Store::stored));
    BOOST_TEST(sink.count("alerts/") == 2u);  // new to the store: announced again, with the same id
    std::vector<std::string> announced;
    for (const auto& m : sink.messages)
        if (m.topic.rfind("alerts/", 0) == 0) announced.push_back(m.payload);
    BOOST_TEST(announced.front() == announced.back());
}

BOOST_AUTO_TEST_CASE(a_full_batch_asks_to_be_stored_before_taking_more) {
    std::size_t offered = 0;
    while (offer("plug-1", 5, -static_cast<std::int64_t>(offered) - 1) == Offer::done) ++offered;
    BOOST_TEST(offered == 100u);
    BOOST_TEST(pipeline->batch_full());
    BOOST_TEST((offer("plug-1", 5, -500) == Offer::batch_full));
    BOOST_TEST((store_and_publish() == Store::stored));
    BOOST_TEST((offer("plug-1", 5, -500) == Offer::done));
}

BOOST_AUTO_TEST_CASE(a_retained_reading_is_not_stored_again) {
    BOOST_TEST((offer("plug-1", 5, -1000, kSpoolRetained) == Offer::done));
    BOOST_TEST(!pipeline->has_work());
    BOOST_TEST(metrics.retained == 1u);
}

BOOST_AUTO_TEST_CASE(a_removed_device_is_forgotten) {
    BOOST_TEST((offer("plug-1", 5, -1000) == Offer::done));
    BOOST_TEST((store_and_publish() == Store::stored));
    BOOST_REQUIRE(sink.last("energy/ann/plug-1/availability"));
    BOOST_TEST(sink.last("energy/ann/plug-1/availability")->payload == "online");
    registry.devices.erase("plug-1");
    pipeline->device_changed("plug-1", true);
    // Its retained availability is deleted (an empty retained message), read from its record
    // before the removal drops it.
    const auto* availability = sink.last("energy/ann/plug-1/availability");
    BOOST_TEST(availability->payload.empty());
    BOOST_TEST(availability->retained);
    BOOST_TEST((offer("plug-1", 5, 0) == Offer::done));
    BOOST_TEST(metrics.rejected[static_cast<std::size_t>(RejectReason::unknown_device)] == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
