#pragma once
// The device change log, polled: for each device added, changed or removed since the last poll,
// the hub's cached record (and Redis's shared copy) is dropped, and a removed device's rules are
// forgotten. The first poll only positions the cursor.
#include "pipeline/ingest_pipeline.hpp"
#include "postgres/device_directory.hpp"
#include "redis/device_cache.hpp"

namespace energyhub {

class RegistryWatcher {
public:
    RegistryWatcher(postgres::DeviceDirectory& directory, redis::DeviceCache* cache, IngestPipeline& pipeline)
        : directory_(directory), cache_(cache), pipeline_(pipeline) {}

    // Throws StoreError when the registry cannot answer; the next poll catches up.
    void poll();

private:
    postgres::DeviceDirectory& directory_;
    redis::DeviceCache* cache_;
    IngestPipeline& pipeline_;
};

}  // namespace energyhub
