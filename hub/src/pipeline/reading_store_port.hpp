#pragma once
// Where the ingest pipeline stores its batches (PostgreSQL in the hub: postgres/reading_store).
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "domain/alert.hpp"
#include "domain/reading.hpp"
#include "domain/store_error.hpp"

namespace energyhub {

struct StoreResult {
    std::size_t inserted = 0;
    std::size_t duplicates = 0;
    std::vector<std::size_t> new_alerts;  // indexes of the alerts stored for the first time
};

struct StoreOutcome {
    bool stored = false;  // false: nothing was written; failure and error say why
    StoreResult result;
    StoreFailure failure = StoreFailure::unavailable;
    std::string error;
};

class ReadingStorePort {
public:
    virtual ~ReadingStorePort() = default;
    // The batch and the alert transitions it caused, in one transaction: all or nothing. A reading
    // stored before (a redelivery, a replay) is stored and counted once.
    virtual StoreOutcome write(std::span<const EnrichedReading> batch, std::span<const Alert> alerts) = 0;
};

}  // namespace energyhub
