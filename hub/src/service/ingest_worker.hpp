#pragma once
// The ingest worker: spool → parse → validate → enrich → rules → batch → COPY, then publish each
// device's retained state and the alert transitions stored with the batch. One thread, owning its PostgreSQL session, Redis connection and caches.
// A reading is committed in the spool only once it is stored or rejected; while the database or
// the registry cannot answer, the worker waits and retries, and the spool absorbs the stream.
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "pipeline/batcher.hpp"
#include "pipeline/device_partition.hpp"
#include "pipeline/enricher.hpp"
#include "pipeline/payload_decoder.hpp"
#include "pipeline/rule_engine.hpp"
#include "pipeline/spool.hpp"
#include "postgres/device_directory.hpp"
#include "postgres/local_days.hpp"
#include "postgres/reading_store.hpp"
#include "postgres/session.hpp"
#include "redis/device_cache.hpp"
#include "service/device_announcer.hpp"
#include "service/message_sink.hpp"
#include "service/metrics.hpp"
#include "service/registry_lookup.hpp"
#include "util/clock.hpp"
#include "util/time_zone.hpp"

namespace energyhub {

class IngestWorker {
public:
    IngestWorker(const Config& config, Spool& spool, MessageSink& sink, IngestMetrics& metrics, const Clock& clock);

    // Runs until stop() and the spool is drained and flushed, or until the drain deadline passes.
    void run();

    // Ask run() to finish: it drains what was spooled, flushes, and returns (bounded wait).
    void stop(std::chrono::milliseconds drain_deadline);

    // New thresholds from a reload (any thread); the worker switches between two readings.
    void reload_thresholds(std::shared_ptr<const ThresholdsConfig> thresholds);

private:
    enum class Step { done, stall };
    Step handle(std::int64_t received_ms, std::string_view topic, std::string_view payload, std::uint16_t flags);
    bool flush();
    void reject(std::string_view topic, std::string_view payload, std::int64_t received_ms, const Reject& why);
    void publish_states();
    void publish_alerts(const std::vector<std::size_t>& fresh);
    bool load_rule_state();
    void housekeeping();
    void backoff();

    const Config& config_;
    Spool& spool_;
    MessageSink& sink_;
    IngestMetrics& metrics_;
    const Clock& clock_;

    postgres::Session session_;
    postgres::DeviceDirectory directory_;
    postgres::ReadingStore store_;
    std::unique_ptr<redis::DeviceCache> redis_;
    RegistryLookup lookup_;
    Enricher enricher_;
    std::unique_ptr<UtcOffsets> tasmota_zone_;  // null: Tasmota readings are dated by receive time
    DevicePartition partition_;                 // the devices this hub handles (hub.partition)
    PayloadDecoder decoder_;                    // native, Tasmota, Shelly: pipeline/payload_adapter.hpp
    DeviceAnnouncer announcer_;                 // availability and Home Assistant discovery
    postgres::LocalDays local_days_;
    RuleEngine rules_;
    std::vector<Alert> alerts_;  // transitions waiting to be stored with the next batch
    bool rules_loaded_ = false;
    std::int64_t started_ms_ = 0;
    std::mutex reload_mutex_;
    std::shared_ptr<const ThresholdsConfig> reloaded_;  // guarded by reload_mutex_
    std::atomic<bool> reload_pending_{false};

    DecodedMessage decoded_;               // reused decode target
    Batcher<EnrichedReading> batch_;
    std::optional<SpoolPosition> handled_;  // end of the last record dealt with

    struct Pending {  // a record waiting for the registry or database to come back
        std::int64_t received_ms;
        std::uint16_t flags;
        std::string topic;
        std::string payload;
        SpoolPosition end;
    };
    std::optional<Pending> pending_;

    std::unordered_map<std::string, std::size_t> last_in_batch_;  // device -> index, for state messages
    std::string message_;                                         // reused JSON buffer
    std::int64_t backoff_ms_ = 0;
    double deadletter_tokens_ = 0;
    std::int64_t deadletter_refill_ms_ = 0;
    std::int64_t next_change_poll_ms_ = 0;
    std::int64_t next_maintenance_ms_ = 0;
    std::int64_t next_stats_ms_ = 0;
    std::int64_t next_offline_check_ms_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<std::int64_t> drain_until_ms_{0};
};

}  // namespace energyhub
