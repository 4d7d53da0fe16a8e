#include "domain/device_partition.hpp"

#include <charconv>

#include "domain/ids.hpp"

namespace energyhub {

std::optional<DevicePartition> DevicePartition::parse(std::string_view text) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    std::uint32_t index = 0, count = 0;
    const auto* end = text.data() + text.size();
    auto [p1, e1] = std::from_chars(text.data(), text.data() + slash, index);
    auto [p2, e2] = std::from_chars(text.data() + slash + 1, end, count);
    if (e1 != std::errc{} || p1 != text.data() + slash || e2 != std::errc{} || p2 != end || slash == 0)
        return std::nullopt;
    if (count == 0 || count > kMaxPartitions || index >= count) return std::nullopt;
    return DevicePartition(index, count);
}

std::uint64_t DevicePartition::hash(std::string_view device_id) {
    std::uint64_t h = 14695981039346656037ull;  // FNV-1a, 64 bit
    for (unsigned char c : parent_device_id(device_id)) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

bool DevicePartition::owns(std::string_view device_id) const {
    return count_ == 1 || hash(device_id) % count_ == index_;
}

}  // namespace energyhub
