#pragma once
// The ingest core, without I/O: decode → resolve → enrich → rules → batch, then one write of the
// batch with its alert transitions through a port, then each device's retained state to a message
// sink. An alert transition is announced as soon as it is decided (its reading is in the spool, and
// its id is derived from what it describes); one decided while replaying the spool after a restart
// is announced only if the store finds it new, so a restart does not announce it twice.
// Everything outside is a port: the device lookup (behind the enricher's cache), the local days the
// daily rules need, the reading store, the message sink and the clock. The hub wires PostgreSQL,
// Redis and MQTT to them (service/ingest_worker); the unit tests wire fakes. The spool, its
// position and the backoff stay with the worker.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "domain/device_partition.hpp"
#include "domain/reading.hpp"
#include "pipeline/batcher.hpp"
#include "pipeline/device_announcer.hpp"
#include "pipeline/enricher.hpp"
#include "pipeline/ingest_metrics.hpp"
#include "pipeline/message_lookahead.hpp"
#include "pipeline/message_sink.hpp"
#include "pipeline/payload_decoder.hpp"
#include "pipeline/reading_store_port.hpp"
#include "pipeline/rule_engine.hpp"
#include "util/clock.hpp"
#include "util/time_zone.hpp"

namespace energyhub {

struct IngestPorts {
    DeviceLookupPort& lookup;
    LocalDayPort& local_days;
    ReadingStorePort& store;
    MessageSink& sink;
    const Clock& clock;
    const UtcOffsets* tasmota_zone = nullptr;     // null: Tasmota readings are dated on arrival
    const MessageLookahead* lookahead = nullptr;  // the messages behind the one offered (the spool)
};

class IngestPipeline final : private UpcomingDevices {
public:
    enum class Offer {
        done,         // batched, rejected (dead-lettered) or nothing to store: the message is dealt with
        batch_full,   // no room for its readings: store() first, then offer it again
        retry_later,  // a registry could not answer: nothing of it was kept, offer it again later
    };
    enum class Store { nothing, stored, unavailable };

    IngestPipeline(const Config& config, IngestPorts ports, IngestMetrics& metrics);

    // One message as the broker delivered it (flags: pipeline/spool.hpp, kSpoolRetained and
    // kSpoolReplayed).
    Offer offer(std::int64_t received_ms, std::string_view topic, std::string_view payload, std::uint16_t flags);

    // Writes the batch and the alert transitions. After `stored`, the caller commits what it
    // offered and then calls publish_stored(); after `unavailable` everything stays for the next try.
    Store store();
    // The replayed alert transitions stored for the first time, and each stored device's retained
    // state: held until hub.state_interval has passed since the last states went out.
    void publish_stored();
    // The held states, once hub.state_interval has passed (or now, when `now` is true: stopping).
    void publish_held_states(bool now = false);

    bool has_batch() const { return !batch_.empty(); }
    bool has_work() const { return !batch_.empty() || !alerts_.empty(); }
    bool batch_full() const { return batch_.full(); }
    bool batch_due(std::int64_t steady_ms) const { return batch_.due(steady_ms); }
    std::int64_t wait_ms(std::int64_t steady_ms, std::int64_t idle_ms) const {
        return batch_.wait_ms(steady_ms, idle_ms);
    }

    // The registry changed or removed a device: forget what was cached and, if removed, its rules.
    void device_changed(const std::string& device_id, bool removed);
    // The offline rule, and the devices it finds silent shown unavailable.
    void check_offline();
    RuleEngine& rules() { return rules_; }
    const Enricher& enricher() const { return enricher_; }
    // (Sub-)devices held in memory.
    std::size_t cached_devices() const { return devices_.size(); }
    const DevicePartition& partition() const { return partition_; }

private:
    // The devices of the messages behind the one offered that this hub handles, for the enricher.
    void upcoming(std::size_t max, std::vector<std::string>& device_ids) override;
    void reject(std::string_view topic, std::string_view payload, std::int64_t received_ms, const Reject& why);
    void hold_states();
    void publish_alerts();
    // Publishes and counts the transitions decided since alerts_[from], unless they came from a replay.
    void announce_new_alerts(std::size_t from, bool replayed);
    void announce(const Alert& a);

    const Config& config_;
    IngestPorts ports_;
    IngestMetrics& metrics_;
    DeviceTable devices_;  // what the enricher, the announcer and the rules keep per device
    Enricher enricher_;
    DevicePartition partition_;  // the devices this hub handles (hub.partition)
    PayloadDecoder decoder_;     // native, Tasmota, Shelly: pipeline/payload_adapter.hpp
    DeviceAnnouncer announcer_;  // availability and Home Assistant discovery
    RuleEngine rules_;
    DecodedMessage decoded_;  // reused decode target
    Batcher<EnrichedReading> batch_;
    std::vector<Alert> alerts_;              // transitions waiting to be stored with the next batch
    std::vector<bool> announced_;            // alerts_[i] was announced when decided
    std::vector<std::size_t> fresh_alerts_;  // of those, the ones stored for the first time
    bool store_failing_ = false;             // logged once per episode
    // A device's latest reading since its state last went out: what its next state shows.
    struct HeldState {
        std::string user_id;
        Reading reading;
    };
    std::unordered_map<std::string, HeldState> held_states_;  // by device id
    std::int64_t states_due_ms_ = 0;                          // steady clock: when states may go out again
    std::string message_;                                     // reused JSON buffer
    std::vector<std::string_view> upcoming_topics_;
    double deadletter_tokens_ = 0;
    std::int64_t deadletter_refill_ms_ = 0;
};

}  // namespace energyhub
