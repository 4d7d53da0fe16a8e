#pragma once
// The authoritative device lookup (PostgreSQL), and the change log that tells caches what to evict.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/reading.hpp"
#include "postgres/session.hpp"

namespace energyhub::postgres {

struct DeviceLookup {
    DeviceRecord record;
    // The device's latest stored counters, so usage continues across hub restarts.
    CounterState last_counters;
};

class DeviceDirectory {
public:
    explicit DeviceDirectory(Session& session) : session_(session) {}

    // nullopt for an unknown device. For a channel "<device>:<n>" the record is the device's and the
    // counter the channel's. Throws StoreError when the database cannot answer.
    std::optional<DeviceLookup> find(std::string_view device_id);
    // The same for many devices in one query: `result[i]` answers `device_ids[i]`.
    std::vector<std::optional<DeviceLookup>> find_many(std::span<const std::string> device_ids);
    // Only the latest counters, for devices whose record came from a cache: `result[i]` for
    // `device_ids[i]`, empty where none is stored. Throws StoreError.
    std::vector<CounterState> latest_counters(std::span<const std::string> device_ids);

    // Devices added, changed or removed since the previous call. The first call only positions the
    // cursor at the end of the log. Throws StoreError.
    std::vector<std::string> changes();

private:
    Session& session_;
    std::optional<std::int64_t> seen_seq_;
};

}  // namespace energyhub::postgres
