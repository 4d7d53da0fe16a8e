#include "service/partition_keeper.hpp"

#include <spdlog/spdlog.h>

namespace energyhub {

void PartitionKeeper::maintain() {
    for (const auto& name :
         store_.maintain_partitions(clock_.now_ms(), config_.partitions_ahead, config_.retention_days))
        spdlog::get("hub.ingest")->info("dropped partition {} (older than {} days)", name, config_.retention_days);
}

}  // namespace energyhub
