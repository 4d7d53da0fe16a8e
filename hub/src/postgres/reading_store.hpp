#pragma once
// Writes batches of enriched readings: COPY into a per-connection staging table, then one INSERT
// ... ON CONFLICT DO NOTHING into the partitioned table, and the hourly rollup updated from the
// rows that were really new, all in one transaction. A redelivered or replayed reading is therefore
// stored once and counted once.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "domain/reading.hpp"
#include "postgres/partitions.hpp"
#include "postgres/session.hpp"

namespace energyhub::postgres {

struct StoreResult {
    std::size_t inserted = 0;
    std::size_t duplicates = 0;
};

class ReadingStore {
public:
    explicit ReadingStore(Session& session) : session_(session) {}

    // Throws pqxx exceptions; the caller keeps the batch and retries.
    StoreResult write(std::span<const EnrichedReading> batch);

    PartitionManager& partitions() { return partitions_; }

private:
    void encode(std::span<const EnrichedReading> batch);

    Session& session_;
    PartitionManager partitions_;
    std::uint64_t staged_generation_ = 0;  // the connection the staging table exists on
    std::string copy_text_;                // reused COPY buffer
};

}  // namespace energyhub::postgres
