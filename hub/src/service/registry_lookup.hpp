#pragma once
// The enricher's miss path: Redis first (shared by all hubs), then PostgreSQL, which fills Redis,
// each one round trip for a whole batch of devices. Redis holds records only: the latest counters
// of the devices it answered for come from PostgreSQL, in one more query. Either may be down: Redis
// is skipped, and a PostgreSQL failure is "unavailable" so the reading waits rather than being
// refused as unknown (or enriched without its counters).
#include "pipeline/enricher.hpp"
#include "postgres/device_directory.hpp"
#include "redis/device_cache.hpp"

namespace energyhub {

class RegistryLookup final : public DeviceLookupPort {
public:
    RegistryLookup(postgres::DeviceDirectory& directory, redis::DeviceCache* cache)
        : directory_(directory), cache_(cache) {}

    LookupStatus lookup(std::string_view device_id, DeviceInfo& out) override;
    void lookup_many(std::span<const std::string> device_ids, std::vector<Result>& out) override;

    std::uint64_t redis_hits() const { return redis_hits_; }
    std::uint64_t batches() const { return batches_; }
    // Devices PostgreSQL was asked about.
    std::uint64_t database_lookups() const { return database_lookups_; }

private:
    postgres::DeviceDirectory& directory_;
    redis::DeviceCache* cache_;
    std::uint64_t redis_hits_ = 0;
    std::uint64_t database_lookups_ = 0;
    std::uint64_t batches_ = 0;
    std::vector<std::string> asked_;  // reused per batch: what Redis did not have
    std::vector<std::size_t> asked_at_;
    std::vector<std::string> hits_;  // reused per batch: what Redis had (their counters are asked for)
    std::vector<std::size_t> hits_at_;
};

}  // namespace energyhub
