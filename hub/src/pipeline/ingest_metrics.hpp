#pragma once
// Counters of the ingest path. Written by one worker, read by anyone (logs, later /metrics).
#include <array>
#include <atomic>
#include <cstdint>

#include "pipeline/reject.hpp"
#include "util/histogram.hpp"

namespace energyhub {

struct IngestMetrics {
    std::atomic<std::uint64_t> received{0};    // records read from the spool
    std::atomic<std::uint64_t> stored{0};      // rows newly inserted
    std::atomic<std::uint64_t> duplicates{0};  // rows already present (redelivery, replay)
    std::atomic<std::uint64_t> batches{0};
    std::atomic<std::uint64_t> store_failures{0};
    std::atomic<std::uint64_t> lookup_stalls{0};  // waits because no registry could answer
    std::atomic<std::uint64_t> deadletter_dropped{0};
    std::atomic<std::uint64_t> other_partition{0};  // messages of devices another hub handles (hub.partition)
    std::atomic<std::uint64_t> ignored{0};          // understood, nothing to store (a Shelly "sys" status...)
    std::atomic<std::uint64_t> retained{0};         // readings replayed from the broker's retained store: not stored
    std::atomic<std::uint64_t> states_skipped{0};   // not queued while the sink was behind (see publish_held_states)
    std::atomic<std::uint64_t> alerts_fired{0};
    std::atomic<std::uint64_t> alerts_resolved{0};
    std::atomic<std::uint64_t> cache_hits{0};  // enricher LRU
    std::atomic<std::uint64_t> cache_misses{0};
    std::atomic<std::uint64_t> redis_hits{0};
    std::atomic<std::uint64_t> database_lookups{0};
    std::atomic<std::uint64_t> lookup_batches{0};     // round trips for the misses, each for many devices
    std::atomic<std::uint64_t> local_day_queries{0};  // a time zone's day asked of PostgreSQL
    std::atomic<std::uint64_t> cached_devices{0};
    std::atomic<std::uint64_t> rollup_folds{0};     // folds of readings into the stored hourly rollup
    std::atomic<std::int64_t> rollup_folded_ms{0};  // every reading older than this is in the stored rows

    // Health, as last seen by the worker (which owns the connections).
    std::atomic<bool> postgres_up{false};
    std::atomic<bool> redis_up{false};
    std::atomic<std::int64_t> heartbeat_ms{0};  // steady time of the worker's last loop

    Histogram batch_size{{1, 10, 100, 500, 1000, 2000, 5000, 10000}};
    Histogram flush_seconds{{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                             2.5}};  // over the dead-letter rate (still counted below)
    std::array<std::atomic<std::uint64_t>, kRejectReasonCount> rejected{};

    std::uint64_t rejected_total() const {
        std::uint64_t n = 0;
        for (const auto& r : rejected) n += r.load();
        return n;
    }
};

}  // namespace energyhub
