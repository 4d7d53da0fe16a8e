#pragma once
// Daily partitions of the readings table: created ahead of time, created on demand for a reading
// whose day has none yet, and dropped after the retention period.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <pqxx/pqxx>

namespace energyhub::postgres {

// "readings_p20261128" for the UTC day containing ms.
std::string partition_name(std::int64_t ms);

class PartitionManager {
public:
    // Creates the partition for each day (UTC day start in ms) not known to exist. Runs in its own
    // transaction so a race with another hub cannot fail a batch.
    void ensure(pqxx::connection& conn, const std::set<std::int64_t>& day_starts);

    // Today, and `ahead` days after it; then drops partitions older than `retention_days`.
    // Returns the names of dropped partitions.
    std::vector<std::string> maintain(pqxx::connection& conn, std::int64_t now_ms, int ahead, int retention_days);

    void forget() { known_.clear(); }

private:
    std::set<std::int64_t> known_;
};

}  // namespace energyhub::postgres
