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

// A lookup batch never displaces more than a quarter of the table, so the channels of the message
// in hand (at most kMaxReadingsPerMessage, far fewer than DeviceTable::kMinCapacity) stay cached.
Enricher::Enricher(DeviceTable& table, DeviceLookupPort& lookup, std::int64_t unknown_ttl_ms, const Clock& clock,
                   UpcomingDevices* upcoming)
    : table_(table),
      lookup_(lookup),
      upcoming_(upcoming),
      max_batch_(std::min(kMaxLookupBatch, table.capacity() / 4)),
      unknown_ttl_ms_(unknown_ttl_ms),
      clock_(clock) {}

OwnerState* Enricher::cached(const std::string& device_id) {
    DeviceSlot* s = table_.find(device_id);
    return s ? &s->owner : nullptr;
}

OwnerState* Enricher::owner(std::string_view parent_id) {
    key_.assign(parent_id);
    OwnerState* o = cached(key_);
    if (!o || o->registry == Registry::not_asked) return nullptr;
    if (o->registry == Registry::unknown && clock_.steady_ms() >= o->ask_again_ms) return nullptr;  // ask again
    return o;
}

void Enricher::invalidate(const std::string& device_id) {
    if (OwnerState* o = cached(device_id)) o->registry = Registry::not_asked;
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
    const OwnerState* o = owner(parent_device_id(device_id));
    if (o && o->registry == Registry::unknown) return LookupStatus::unknown;
    id_.assign(device_id);
    if (o) {
        const OwnerState* own = id_.size() == key_.size() ? o : cached(id_);
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
    OwnerState& o = table_.get(parent.size() == device_id.size() ? device_id : std::string(parent)).owner;
    if (answer.status != LookupStatus::found) {
        o.registry = Registry::unknown;
        o.ask_again_ms = clock_.steady_ms() + unknown_ttl_ms_;
        return;
    }
    const auto& record = answer.info.record;
    o.registry = Registry::known;
    o.user_id = table_.intern(record.user_id);
    o.type = table_.intern(record.type);
    o.time_zone = table_.intern(record.time_zone);
    o.name = record.name;

    // The stored counter continues usage across restarts; one in memory that is newer (its batch
    // may not be stored yet) is kept.
    OwnerState& c = parent.size() == device_id.size() ? o : table_.get(device_id).owner;
    const auto& stored = answer.info.last_counters;
    const auto held = c.counters().ts_ms;
    if (!c.has_counters || (stored.ts_ms && (!held || *stored.ts_ms > *held))) c.set_counters(stored);
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
    const OwnerState* o = owner(parent);
    if (!o || o->registry != Registry::known) return std::nullopt;
    return DeviceRef{parent, *o->user_id, *o->type, o->name.view()};
}

LookupStatus Enricher::enrich(const Reading& reading, EnrichedReading& out) {
    bool looked_up = false;
    auto status = load(reading.device_id, looked_up);
    ++(looked_up ? stats_.misses : stats_.hits);
    if (status != LookupStatus::found) return status;
    OwnerState* o = owner(parent_device_id(reading.device_id));
    OwnerState* c = o && reading.device_id.size() == key_.size() ? o : cached(reading.device_id);
    if (!o || !c || !c->has_counters) return LookupStatus::unavailable;  // evicted since load: cannot happen

    out.reading = reading;
    out.user_id = *o->user_id;
    out.device_type = *o->type;
    out.time_zone = *o->time_zone;
    auto counters = c->counters();
    const auto step = advance_counters(counters, reading);
    c->set_counters(counters);
    out.energy_delta_wh = step.import_wh;
    out.export_delta_wh = step.export_wh;
    return LookupStatus::found;
}

}  // namespace energyhub
