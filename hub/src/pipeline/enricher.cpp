#include "pipeline/enricher.hpp"

#include <algorithm>

#include "domain/ids.hpp"
#include "pipeline/energy_counter.hpp"

namespace energyhub {

Enricher::Enricher(DeviceLookupPort& lookup, std::size_t capacity, std::int64_t unknown_ttl_ms, const Clock& clock)
    : lookup_(lookup),
      owners_(std::max(capacity, kMinCapacity)),
      counters_(std::max(capacity, kMinCapacity)),
      unknown_ttl_ms_(unknown_ttl_ms),
      clock_(clock) {}

Enricher::Owner* Enricher::owner(std::string_view parent_id) {
    key_.assign(parent_id);
    Owner* o = owners_.find(key_);
    if (o && !o->known && clock_.steady_ms() >= o->expires_ms) return nullptr;  // ask again
    return o;
}

LookupStatus Enricher::load(std::string_view device_id, bool& looked_up) {
    looked_up = false;
    const auto parent = parent_device_id(device_id);
    Owner* o = owner(parent);
    if (o && !o->known) return LookupStatus::unknown;
    id_.assign(device_id);
    if (o && counters_.find(id_)) return LookupStatus::found;

    looked_up = true;
    auto status = lookup_.lookup(device_id, scratch_);
    if (status == LookupStatus::unavailable) return status;
    Owner fresh;
    if (status == LookupStatus::found) {
        fresh.known = true;
        fresh.record = scratch_.record;
    } else {
        fresh.expires_ms = clock_.steady_ms() + unknown_ttl_ms_;
    }
    owners_.put(std::string(parent), std::move(fresh));
    if (status != LookupStatus::found) return status;

    // The stored counter continues usage across restarts; one in memory that is newer (its batch
    // may not be stored yet) is kept.
    id_.assign(device_id);
    CounterState* c = counters_.find(id_);
    if (!c) c = &counters_.put(id_, CounterState{});
    const auto& stored = scratch_.last_counters;
    if (stored.ts_ms && (!c->ts_ms || *stored.ts_ms > *c->ts_ms)) *c = stored;
    return LookupStatus::found;
}

LookupStatus Enricher::resolve(std::string_view device_id) {
    bool looked_up = false;
    auto status = load(device_id, looked_up);
    if (looked_up) ++stats_.misses;
    return status;
}

const DeviceRecord* Enricher::record(std::string_view device_id) {
    Owner* o = owner(parent_device_id(device_id));
    return o && o->known ? &o->record : nullptr;
}

LookupStatus Enricher::enrich(const Reading& reading, EnrichedReading& out) {
    bool looked_up = false;
    auto status = load(reading.device_id, looked_up);
    ++(looked_up ? stats_.misses : stats_.hits);
    if (status != LookupStatus::found) return status;
    Owner* o = owner(parent_device_id(reading.device_id));
    CounterState* c = counters_.find(reading.device_id);
    if (!o || !c) return LookupStatus::unavailable;  // evicted between load and here: cannot happen

    out.reading = reading;
    out.user_id = o->record.user_id;
    out.device_type = o->record.type;
    const auto step = advance_counters(*c, reading);
    out.energy_delta_wh = step.import_wh;
    out.export_delta_wh = step.export_wh;
    return LookupStatus::found;
}

}  // namespace energyhub
