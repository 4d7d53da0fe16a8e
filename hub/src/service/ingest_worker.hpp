#pragma once
// The ingest worker: the loop around the I/O-free pipeline (pipeline/ingest_pipeline.hpp). It reads
// the spool, offers each message, stores due batches, commits the spool position only after the
// batch's transaction, waits and retries while PostgreSQL or the registry cannot answer (the spool
// absorbs the stream), and wires the pipeline's ports to PostgreSQL, Redis and the MQTT sink.
// One thread, owning its connections.
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "pipeline/ingest_metrics.hpp"
#include "pipeline/ingest_pipeline.hpp"
#include "pipeline/message_sink.hpp"
#include "pipeline/spool.hpp"
#include "postgres/device_directory.hpp"
#include "postgres/local_days.hpp"
#include "postgres/reading_store.hpp"
#include "postgres/session.hpp"
#include "redis/device_cache.hpp"
#include "service/partition_keeper.hpp"
#include "service/registry_lookup.hpp"
#include "service/registry_watcher.hpp"
#include "util/clock.hpp"
#include "util/every.hpp"
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
    bool load_rule_state();
    void housekeeping();
    void backoff();

    Spool& spool_;
    IngestMetrics& metrics_;
    const Clock& clock_;

    postgres::Session session_;
    postgres::DeviceDirectory directory_;
    postgres::ReadingStore store_;
    std::unique_ptr<redis::DeviceCache> redis_;
    RegistryLookup lookup_;
    std::unique_ptr<UtcOffsets> tasmota_zone_;  // null: Tasmota readings are dated by receive time
    postgres::LocalDays local_days_;
    IngestPipeline pipeline_;
    RegistryWatcher registry_watcher_;
    PartitionKeeper partition_keeper_;
    bool rules_loaded_ = false;
    std::int64_t started_ms_ = 0;
    std::mutex reload_mutex_;
    std::shared_ptr<const ThresholdsConfig> reloaded_;  // guarded by reload_mutex_
    std::atomic<bool> reload_pending_{false};

    std::optional<SpoolPosition> handled_;  // end of the last record dealt with
    struct Pending {  // a record waiting for the registry or database to come back
        std::int64_t received_ms;
        std::uint16_t flags;
        std::string topic;
        std::string payload;
        SpoolPosition end;
    };
    std::optional<Pending> pending_;

    std::int64_t backoff_ms_ = 0;
    Every registry_poll_{1'000};
    Every partition_upkeep_{3'600'000};
    Every rollup_fold_;  // hub.rollup_interval
    Every offline_check_{5'000};
    Every memory_trim_{10'000};
    Every stats_{60'000};
    std::atomic<bool> stopping_{false};
    std::atomic<std::int64_t> drain_until_ms_{0};
};

}  // namespace energyhub
