#pragma once
// Joins a reading with its owner and turns the device's cumulative counter into usage since the
// previous reading. Hits come from an in-process LRU without any I/O; misses go to a lookup port
// (Redis, then PostgreSQL, in the hub). One enricher per worker thread: no locks.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/reading.hpp"
#include "util/clock.hpp"
#include "util/lru_cache.hpp"

namespace energyhub {

enum class LookupStatus { found, unknown, unavailable };

struct DeviceInfo {
    DeviceRecord record;
    std::optional<std::int64_t> last_counter_ts_ms;  // when known, usage continues across restarts
    std::optional<double> last_counter_wh;
};

class DeviceLookupPort {
public:
    virtual ~DeviceLookupPort() = default;
    // found fills `out`; unavailable means "ask again later", never "unknown".
    virtual LookupStatus lookup(std::string_view device_id, DeviceInfo& out) = 0;
};

struct EnricherStats {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
};

class Enricher {
public:
    Enricher(DeviceLookupPort& lookup, std::size_t capacity, std::int64_t unknown_ttl_ms, const Clock& clock);

    // found: `out` is filled. unknown: no such device. unavailable: retry later (nothing changed).
    LookupStatus enrich(const Reading& reading, EnrichedReading& out);

    // The registry changed this device: forget what we knew.
    void invalidate(const std::string& device_id) { cache_.erase(device_id); }

    const EnricherStats& stats() const { return stats_; }
    std::size_t cached() const { return cache_.size(); }

private:
    struct Entry {
        bool known = false;
        std::int64_t expires_ms = 0;  // for unknown devices: when to ask again
        DeviceRecord record;
        std::optional<std::int64_t> last_counter_ts_ms;
        std::optional<double> last_counter_wh;
    };

    DeviceLookupPort& lookup_;
    LruCache<std::string, Entry> cache_;
    std::int64_t unknown_ttl_ms_;
    const Clock& clock_;
    EnricherStats stats_;
    DeviceInfo scratch_;
};

// Usage between two counter values. A counter that went down was reset (power loss, firmware
// update): the new value is what was used since the reset, never a negative number.
constexpr double counter_delta(double previous, double current) { return current >= previous ? current - previous : current; }

}  // namespace energyhub
