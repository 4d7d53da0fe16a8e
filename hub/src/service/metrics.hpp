#pragma once
// Counters of the ingest path. Written by one worker, read by anyone (logs, later /metrics).
#include <array>
#include <atomic>
#include <cstdint>

#include "pipeline/reject.hpp"

namespace energyhub {

struct IngestMetrics {
    std::atomic<std::uint64_t> received{0};      // records read from the spool
    std::atomic<std::uint64_t> stored{0};        // rows newly inserted
    std::atomic<std::uint64_t> duplicates{0};    // rows already present (redelivery, replay)
    std::atomic<std::uint64_t> batches{0};
    std::atomic<std::uint64_t> store_failures{0};
    std::atomic<std::uint64_t> lookup_stalls{0};  // waits because no registry could answer
    std::atomic<std::uint64_t> deadletter_dropped{0};
    std::atomic<std::uint64_t> alerts_fired{0};
    std::atomic<std::uint64_t> alerts_resolved{0};  // over the dead-letter rate (still counted below)
    std::array<std::atomic<std::uint64_t>, kRejectReasonCount> rejected{};

    std::uint64_t rejected_total() const {
        std::uint64_t n = 0;
        for (const auto& r : rejected) n += r.load();
        return n;
    }
};

}  // namespace energyhub
