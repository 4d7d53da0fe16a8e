#pragma once
// The readings table's daily partitions: the coming days created ahead (`hub.partitions_ahead`),
// the days past `hub.retention_days` dropped, each drop logged.
#include "config/config.hpp"
#include "postgres/reading_store.hpp"
#include "util/clock.hpp"

namespace energyhub {

class PartitionKeeper {
public:
    PartitionKeeper(postgres::ReadingStore& store, const HubConfig& config, const Clock& clock)
        : store_(store), config_(config), clock_(clock) {}

    // Throws StoreError when the database cannot answer.
    void maintain();

private:
    postgres::ReadingStore& store_;
    const HubConfig& config_;
    const Clock& clock_;
};

}  // namespace energyhub
