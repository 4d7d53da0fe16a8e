#pragma once
// Writes batches of enriched readings: one INSERT into the partitioned table from the batch's
// columns, each a binary array parameter (unnest), in one statement and one transaction. A batch
// holding a reading stored already (redelivered, replayed) fails that insert and is merged
// instead: INSERT ... ON CONFLICT DO NOTHING. The hourly rollup is folded in behind the readings
// (fold_rollup, schema/009_rollup_fold.sql); a batch adds to it only its readings older than the
// last fold, and only those really new. A reading is therefore stored once and counted once. No
// staging table: its pages, written afresh at every batch, were a third of what a reading cost an
// SD card.
#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <pqxx/binarystring>

#include "domain/alert.hpp"
#include "domain/reading.hpp"
#include "pipeline/reading_store_port.hpp"
#include "postgres/alert_store.hpp"
#include "postgres/binary_array.hpp"
#include "postgres/partitions.hpp"
#include "postgres/session.hpp"

namespace energyhub::postgres {

struct FoldResult {
    std::size_t device_hours = 0;  // stored rows added to
    bool caught_up = true;         // false: more than `span` was left; fold again
    std::int64_t folded_before_ms = 0;  // every reading older than this is in the stored rows
};

class ReadingStore final : public ReadingStorePort {
public:
    explicit ReadingStore(Session& session) : session_(session) {}

    // A database that cannot answer is `stored == false` with its failure (the session is reset).
    StoreOutcome write(std::span<const EnrichedReading> batch, std::span<const Alert> alerts) override;

    // The same, throwing StoreError (for tools that stop at the first error).
    StoreResult write_or_throw(std::span<const EnrichedReading> batch, std::span<const Alert> alerts = {});

    // What the rules knew before a restart. Throw StoreError, as does the rest.
    std::vector<SeenDevice> recently_seen_devices(int days);
    std::vector<Alert> firing_alerts();

    // Adds the readings between the last fold and `age` before now, at most `span` of them (a fold
    // after an outage comes in steps), to the stored rows of the hourly rollup, in one transaction.
    FoldResult fold_rollup(std::chrono::milliseconds age, std::chrono::milliseconds span);

    // Creates the daily partitions `ahead` and drops those past retention; returns the dropped.
    std::vector<std::string> maintain_partitions(std::int64_t now_ms, int ahead, int retention_days);

private:
    std::vector<pqxx::binarystring> encode(std::span<const EnrichedReading> batch);

    Session& session_;
    PartitionManager partitions_;
    std::uint64_t known_generation_ = 0;   // the connection partitions_ knows about
    std::array<BinaryArray, 10> columns_;  // reused, one per column
    std::uint32_t merges_left_ = 0;        // batches to merge before the plain insert is tried again
};

}  // namespace energyhub::postgres
