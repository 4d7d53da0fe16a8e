#pragma once
// Which devices this hub handles when several hubs each subscribe to the whole stream and split it
// by device (hub.partition "i/n"): every reading of a device reaches the same hub, so the rules'
// per-device state (holds, baselines, daily energy, offline timers) stays whole, which a share
// group, splitting per message, cannot give. A device belongs to partition FNV-1a(device id) mod
// n, computed on the registered device, so its channels go with it; the hash is fixed here and
// must never change, or devices would move between hubs on an upgrade.
#include <cstdint>
#include <optional>
#include <string_view>

namespace energyhub {

class DevicePartition {
public:
    DevicePartition() = default;  // one hub for everything
    DevicePartition(std::uint32_t index, std::uint32_t count) : index_(index), count_(count) {}

    // "i/n" with 0 <= i < n <= kMaxPartitions; nullopt for anything else.
    static std::optional<DevicePartition> parse(std::string_view text);
    static constexpr std::uint32_t kMaxPartitions = 1024;

    // Whether this hub handles the (sub-)device.
    bool owns(std::string_view device_id) const;
    static std::uint64_t hash(std::string_view device_id);

    bool whole() const { return count_ == 1; }
    std::uint32_t index() const { return index_; }
    std::uint32_t count() const { return count_; }

private:
    std::uint32_t index_ = 0;
    std::uint32_t count_ = 1;
};

}  // namespace energyhub
