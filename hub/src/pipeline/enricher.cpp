#include "pipeline/enricher.hpp"

namespace energyhub {

Enricher::Enricher(DeviceLookupPort& lookup, std::size_t capacity, std::int64_t unknown_ttl_ms, const Clock& clock)
    : lookup_(lookup), cache_(capacity), unknown_ttl_ms_(unknown_ttl_ms), clock_(clock) {}

LookupStatus Enricher::enrich(const Reading& reading, EnrichedReading& out) {
    Entry* entry = cache_.find(reading.device_id);
    if (entry && !entry->known && clock_.steady_ms() >= entry->expires_ms) entry = nullptr;
    if (entry) {
        ++stats_.hits;
    } else {
        ++stats_.misses;
        auto status = lookup_.lookup(reading.device_id, scratch_);
        if (status == LookupStatus::unavailable) return status;
        Entry fresh;
        if (status == LookupStatus::found) {
            fresh.known = true;
            fresh.record = scratch_.record;
            fresh.last_counter_ts_ms = scratch_.last_counter_ts_ms;
            fresh.last_counter_wh = scratch_.last_counter_wh;
        } else {
            fresh.expires_ms = clock_.steady_ms() + unknown_ttl_ms_;
        }
        entry = &cache_.put(reading.device_id, std::move(fresh));
    }
    if (!entry->known) return LookupStatus::unknown;

    out.reading = reading;
    out.user_id = entry->record.user_id;
    out.device_type = entry->record.type;
    out.energy_delta_wh.reset();
    if (reading.energy_wh) {
        // Only a newer reading moves the counter; a late or replayed one carries no usage.
        if (!entry->last_counter_ts_ms || reading.ts_ms > *entry->last_counter_ts_ms) {
            if (entry->last_counter_wh) out.energy_delta_wh = counter_delta(*entry->last_counter_wh, *reading.energy_wh);
            entry->last_counter_ts_ms = reading.ts_ms;
            entry->last_counter_wh = reading.energy_wh;
        }
    }
    return LookupStatus::found;
}

}  // namespace energyhub
