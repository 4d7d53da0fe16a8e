#pragma once
// Joins a reading with its owner and turns the device's cumulative counters into import and export
// since the previous reading (pipeline/energy_counter.hpp). Hits come from the device table
// without any I/O; misses go to a lookup port (Redis, then PostgreSQL, in the hub) together with
// the uncached devices of the messages waiting behind (UpcomingDevices), so a stream of new devices
// costs one round trip per many devices, not one per device. One enricher per worker thread: no
// locks.
//
// A reading of a channel ("<device_id>:<n>", see domain/ids.hpp) is joined with the registered
// device "<device_id>" and keeps its own counter. The owner is kept in a registered device's slot of
// the device table (pipeline/device_table.hpp), the counters in the slot of whatever carries them.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/reading.hpp"
#include "pipeline/device_table.hpp"
#include "util/clock.hpp"

namespace energyhub {

enum class LookupStatus { found, unknown, unavailable };

struct DeviceInfo {
    DeviceRecord record;
    CounterState last_counters;  // the latest stored, so usage continues across restarts
};

class DeviceLookupPort {
public:
    virtual ~DeviceLookupPort() = default;
    // found fills `out`; unavailable means "ask again later", never "unknown". `device_id` may name
    // a channel: the record is then the registered device's, the counter the channel's.
    virtual LookupStatus lookup(std::string_view device_id, DeviceInfo& out) = 0;

    struct Result {
        LookupStatus status = LookupStatus::unknown;
        DeviceInfo info;
    };
    // Several at once, `out[i]` for `device_ids[i]`; a registry that cannot answer makes every one
    // unavailable. The default asks one by one; the hub's does it in one round trip.
    virtual void lookup_many(std::span<const std::string> device_ids, std::vector<Result>& out);
};

// The (sub-)device ids of the messages waiting behind the one being enriched.
class UpcomingDevices {
public:
    virtual ~UpcomingDevices() = default;
    virtual void upcoming(std::size_t max, std::vector<std::string>& device_ids) = 0;
};

struct EnricherStats {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
};

class Enricher {
public:
    // At most this many devices go to the lookup port in one call.
    static constexpr std::size_t kMaxLookupBatch = 256;

    // What it learns goes into the devices' slots in `table`.
    Enricher(DeviceTable& table, DeviceLookupPort& lookup, std::int64_t unknown_ttl_ms, const Clock& clock,
             UpcomingDevices* upcoming = nullptr);

    // found: `out` is filled. unknown: no such device. unavailable: retry later (nothing changed).
    LookupStatus enrich(const Reading& reading, EnrichedReading& out);

    // Loads what enrich() needs for a (sub-)device without changing any counter, so a message with
    // several channels can learn that every one is available before the first is enriched.
    LookupStatus resolve(std::string_view device_id);

    // The registry's record of a device (the device of a channel), if cached and known; valid
    // until the next call that looks devices up.
    std::optional<DeviceRef> record(std::string_view device_id);

    // The registry changed this device: forget what we knew about its owner (not its counters).
    void invalidate(const std::string& device_id);

    const EnricherStats& stats() const { return stats_; }

private:
    using Registry = OwnerState::Registry;

    // The owner and counter of a (sub-)device, looked up if needed; `looked_up` says whether the
    // port was asked.
    LookupStatus load(std::string_view device_id, bool& looked_up);
    // Adds what the port answered for one (sub-)device to the table.
    void remember(const std::string& device_id, const DeviceLookupPort::Result& answer);
    // `device_id` and the uncached devices coming after it, for one call of the port.
    void collect_lookup_batch(std::string_view device_id);
    // The slot of a registered device whose registry answer still holds.
    OwnerState* owner(std::string_view parent_id);
    OwnerState* cached(const std::string& device_id);

    DeviceTable& table_;
    DeviceLookupPort& lookup_;
    UpcomingDevices* upcoming_;
    std::size_t max_batch_;
    std::int64_t unknown_ttl_ms_;
    const Clock& clock_;
    EnricherStats stats_;
    std::vector<std::string> batch_;  // reused: the ids of one call of the port, and their answers
    std::vector<DeviceLookupPort::Result> answers_;
    std::string key_;  // reused lookup keys
    std::string id_;
};

}  // namespace energyhub
