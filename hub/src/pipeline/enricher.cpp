#include "pipeline/enricher.hpp"

#include <algorithm>

#include "domain/ids.hpp"
#include "pipeline/energy_counter.hpp"

namespace energyhub {

void DeviceLookupPort::lookup_many(std::span<const std::string> device_ids, std::vector<Result>& out) {
    out.resize(device_ids.size());
    for (std::size_t i = 0; i < device_ids.size(); ++i) {
        out[i].info = DeviceInfo{};
        out[i].status = lookup(device_ids[i], out[i].info);
        if (out[i].status != LookupStatus::unavailable) continue;
        for (auto& r : out) r.status = LookupStatus::unavailable;
        return;
    }
}

// A lookup batch never displaces more than a quarter of the cache, so the channels of the message
// in hand (at most kMaxReadingsPerMessage, far fewer than kMinCapacity) stay cached.
Enricher::Enricher(DeviceLookupPort& lookup, std::size_t capacity, std::int64_t unknown_ttl_ms, const Clock& clock,
                   UpcomingDevices* upcoming)
    : lookup_(lookup),
      upcoming_(upcoming),
      max_batch_(std::min(kMaxLookupBatch, std::max(capacity, kMinCapacity) / 4)),
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

void Enricher::collect_lookup_batch(std::string_view device_id) {
    batch_.clear();
    batch_.emplace_back(device_id);
    if (!upcoming_) return;
    upcoming_->upcoming(max_batch_ * 4, batch_);
    // Devices already known (or known to be unknown) and repeats are not asked again.
    auto first_new = std::remove_if(batch_.begin() + 1, batch_.end(), [&](const std::string& id) {
        return id == batch_.front() || owner(parent_device_id(id)) != nullptr;
    });
    batch_.erase(first_new, batch_.end());
    std::sort(batch_.begin() + 1, batch_.end());
    batch_.erase(std::unique(batch_.begin() + 1, batch_.end()), batch_.end());
    if (batch_.size() > max_batch_) batch_.resize(max_batch_);
}

LookupStatus Enricher::load(std::string_view device_id, bool& looked_up) {
    looked_up = false;
    Owner* o = owner(parent_device_id(device_id));
    if (o && !o->known) return LookupStatus::unknown;
    id_.assign(device_id);
    if (o && counters_.find(id_)) return LookupStatus::found;

    looked_up = true;
    collect_lookup_batch(device_id);
    lookup_.lookup_many(batch_, answers_);
    if (answers_.size() != batch_.size() || answers_.front().status == LookupStatus::unavailable)
        return LookupStatus::unavailable;
    // The device asked for last, so that the batch cannot displace it.
    for (std::size_t i = batch_.size(); i-- > 0;) remember(batch_[i], answers_[i]);
    return answers_.front().status;
}

void Enricher::remember(const std::string& device_id, const DeviceLookupPort::Result& answer) {
    if (answer.status == LookupStatus::unavailable) return;
    Owner fresh;
    if (answer.status == LookupStatus::found) {
        fresh.known = true;
        fresh.record = answer.info.record;
    } else {
        fresh.expires_ms = clock_.steady_ms() + unknown_ttl_ms_;
    }
    owners_.put(std::string(parent_device_id(device_id)), std::move(fresh));
    if (answer.status != LookupStatus::found) return;

    // The stored counter continues usage across restarts; one in memory that is newer (its batch
    // may not be stored yet) is kept.
    CounterState* c = counters_.find(device_id);
    if (!c) c = &counters_.put(device_id, CounterState{});
    const auto& stored = answer.info.last_counters;
    if (stored.ts_ms && (!c->ts_ms || *stored.ts_ms > *c->ts_ms)) *c = stored;
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
    out.time_zone = o->record.time_zone;
    const auto step = advance_counters(*c, reading);
    out.energy_delta_wh = step.import_wh;
    out.export_delta_wh = step.export_wh;
    return LookupStatus::found;
}

}  // namespace energyhub
