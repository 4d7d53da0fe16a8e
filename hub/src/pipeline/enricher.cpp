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
      entries_(std::max(capacity, kMinCapacity)),
      unknown_ttl_ms_(unknown_ttl_ms),
      clock_(clock) {}

Enricher::Entry* Enricher::owner(std::string_view parent_id) {
    key_.assign(parent_id);
    Entry* e = entries_.find(key_);
    if (!e || e->registry == Registry::not_asked) return nullptr;
    if (e->registry == Registry::unknown && clock_.steady_ms() >= e->ask_again_ms) return nullptr;  // ask again
    return e;
}

Enricher::Entry& Enricher::entry(const std::string& device_id) {
    Entry* e = entries_.find(device_id);
    return e ? *e : entries_.put(device_id, Entry{});
}

void Enricher::invalidate(const std::string& device_id) {
    if (Entry* e = entries_.find(device_id)) e->registry = Registry::not_asked;
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
    const Entry* o = owner(parent_device_id(device_id));
    if (o && o->registry == Registry::unknown) return LookupStatus::unknown;
    id_.assign(device_id);
    if (o) {
        const Entry* own = id_.size() == key_.size() ? o : entries_.find(id_);
        if (own && own->has_counters) return LookupStatus::found;
    }

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
    const auto parent = parent_device_id(device_id);
    Entry& o = entry(parent.size() == device_id.size() ? device_id : std::string(parent));
    if (answer.status != LookupStatus::found) {
        o.registry = Registry::unknown;
        o.ask_again_ms = clock_.steady_ms() + unknown_ttl_ms_;
        return;
    }
    const auto& record = answer.info.record;
    o.registry = Registry::known;
    o.user_id = names_.intern(record.user_id);
    o.type = names_.intern(record.type);
    o.time_zone = names_.intern(record.time_zone);
    o.name = record.name;

    // The stored counter continues usage across restarts; one in memory that is newer (its batch
    // may not be stored yet) is kept.
    Entry& c = parent.size() == device_id.size() ? o : entry(device_id);
    const auto& stored = answer.info.last_counters;
    if (!c.has_counters || (stored.ts_ms && (!c.counters.ts_ms || *stored.ts_ms > *c.counters.ts_ms)))
        c.counters = stored;
    c.has_counters = true;
}

LookupStatus Enricher::resolve(std::string_view device_id) {
    bool looked_up = false;
    auto status = load(device_id, looked_up);
    if (looked_up) ++stats_.misses;
    return status;
}

std::optional<DeviceRef> Enricher::record(std::string_view device_id) {
    const auto parent = parent_device_id(device_id);
    const Entry* o = owner(parent);
    if (!o || o->registry != Registry::known) return std::nullopt;
    return DeviceRef{parent, *o->user_id, *o->type, o->name};
}

LookupStatus Enricher::enrich(const Reading& reading, EnrichedReading& out) {
    bool looked_up = false;
    auto status = load(reading.device_id, looked_up);
    ++(looked_up ? stats_.misses : stats_.hits);
    if (status != LookupStatus::found) return status;
    Entry* o = owner(parent_device_id(reading.device_id));
    Entry* c = o && reading.device_id.size() == key_.size() ? o : entries_.find(reading.device_id);
    if (!o || !c || !c->has_counters) return LookupStatus::unavailable;  // evicted since load: cannot happen

    out.reading = reading;
    out.user_id = *o->user_id;
    out.device_type = *o->type;
    out.time_zone = *o->time_zone;
    const auto step = advance_counters(c->counters, reading);
    out.energy_delta_wh = step.import_wh;
    out.export_delta_wh = step.export_wh;
    return LookupStatus::found;
}

}  // namespace energyhub
