#include "service/registry_lookup.hpp"

#include <spdlog/spdlog.h>

#include "domain/ids.hpp"

namespace energyhub {

LookupStatus RegistryLookup::lookup(std::string_view device_id, DeviceInfo& out) {
    out.last_counters = CounterState{};
    // Redis caches registry records, which exist for devices only, never for their channels.
    if (cache_ && cache_->get(parent_device_id(device_id), out.record) == redis::CacheStatus::hit) {
        ++redis_hits_;
        return LookupStatus::found;
    }
    try {
        ++database_lookups_;
        auto found = directory_.find(device_id);
        if (!found) return LookupStatus::unknown;
        out.record = std::move(found->record);
        out.last_counters = found->last_counters;
        if (cache_) cache_->put(out.record);
        return LookupStatus::found;
    } catch (const StoreError& e) {
        spdlog::get("hub.store")->warn("device lookup failed ({}), will retry: {}", to_string(e.failure()), e.what());
        return LookupStatus::unavailable;
    }
}

}  // namespace energyhub
