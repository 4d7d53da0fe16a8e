#include "service/registry_lookup.hpp"

#include <spdlog/spdlog.h>

#include "domain/ids.hpp"

namespace energyhub {

LookupStatus RegistryLookup::lookup(std::string_view device_id, DeviceInfo& out) {
    const std::string one[] = {std::string(device_id)};
    std::vector<Result> answer;
    lookup_many(one, answer);
    out = std::move(answer.front().info);
    return answer.front().status;
}

void RegistryLookup::lookup_many(std::span<const std::string> device_ids, std::vector<Result>& out) {
    ++batches_;
    out.assign(device_ids.size(), Result{});
    asked_.clear();
    asked_at_.clear();
    // Redis caches registry records, which exist for devices only, never for their channels.
    std::vector<redis::CacheStatus> cached;
    std::vector<DeviceRecord> records;
    if (cache_) {
        std::vector<std::string_view> parents;
        for (const auto& id : device_ids) parents.push_back(parent_device_id(id));
        cached = cache_->get_many(parents, records);
    }
    hits_.clear();
    hits_at_.clear();
    for (std::size_t i = 0; i < device_ids.size(); ++i) {
        if (i < cached.size() && cached[i] == redis::CacheStatus::hit) {
            ++redis_hits_;
            out[i].info.record = std::move(records[i]);
            hits_.push_back(device_ids[i]);
            hits_at_.push_back(i);
        } else {
            asked_.push_back(device_ids[i]);
            asked_at_.push_back(i);
        }
    }
    try {
        // Redis has the records; the counters are only in PostgreSQL, and usage across a restart
        // needs them: without, the first reading's energy would count for nothing.
        if (!hits_.empty()) {
            auto counters = directory_.latest_counters(hits_);
            for (std::size_t k = 0; k < counters.size(); ++k) {
                auto& answer = out[hits_at_[k]];
                answer.status = LookupStatus::found;
                answer.info.last_counters = counters[k];
            }
        }
        if (asked_.empty()) return;
        database_lookups_ += asked_.size();
        auto found = directory_.find_many(asked_);
        std::vector<const DeviceRecord*> to_cache;
        for (std::size_t k = 0; k < found.size(); ++k) {
            if (!found[k]) continue;
            auto& answer = out[asked_at_[k]];
            answer.status = LookupStatus::found;
            answer.info.record = std::move(found[k]->record);
            answer.info.last_counters = found[k]->last_counters;
            to_cache.push_back(&answer.info.record);
        }
        if (cache_) cache_->put_many(to_cache);
    } catch (const StoreError& e) {
        spdlog::get("hub.store")->warn("device lookup failed ({}), will retry: {}", to_string(e.failure()), e.what());
        for (auto& answer : out) answer.status = LookupStatus::unavailable;
    }
}

}  // namespace energyhub
