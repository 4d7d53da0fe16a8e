#pragma once
// Writes batches of enriched readings: COPY into a per-connection staging table, then one INSERT
// ... ON CONFLICT DO NOTHING into the partitioned table, and the hourly rollup updated from the
// rows that were really new, all in one transaction. A redelivered or replayed reading is therefore
// stored once and counted once.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "domain/alert.hpp"
#include "domain/reading.hpp"
#include "postgres/partitions.hpp"
#include "postgres/session.hpp"

namespace energyhub::postgres {

struct StoreResult {
    std::size_t inserted = 0;
    std::size_t duplicates = 0;
    std::vector<std::size_t> new_alerts;  // indexes of the alerts stored for the first time
};

class ReadingStore {
public:
    explicit ReadingStore(Session& session) : session_(session) {}

    // Readings and the alert transitions they caused, in one transaction. Throws pqxx exceptions;
    // the caller keeps both and retries.
    StoreResult write(std::span<const EnrichedReading> batch, std::span<const Alert> alerts = {});

    PartitionManager& partitions() { return partitions_; }

private:
    void encode(std::span<const EnrichedReading> batch);

    Session& session_;
    PartitionManager partitions_;
    std::uint64_t staged_generation_ = 0;  // the connection the staging table exists on
    std::string copy_text_;                // reused COPY buffer
};

}  // namespace energyhub::postgres
