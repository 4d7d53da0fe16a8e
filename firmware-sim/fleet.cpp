#include "fleet.hpp"

#include <algorithm>
#include <cstdio>

namespace energyhub::sim {

std::string device_id(std::string_view prefix, std::uint64_t index) {
    char digits[24];
    const int n = std::snprintf(digits, sizeof digits, "%05llu", static_cast<unsigned long long>(index));
    std::string id;
    id.reserve(prefix.size() + 1 + static_cast<std::size_t>(n));
    id.append(prefix).append("-").append(digits, static_cast<std::size_t>(n));
    return id;
}

std::string user_id(std::string_view prefix, std::uint64_t index, std::uint64_t users) {
    std::string id(prefix);
    id.append("-user-").append(std::to_string(index % std::max<std::uint64_t>(1, users)));
    return id;
}

std::uint64_t default_user_count(std::uint64_t devices) { return std::max<std::uint64_t>(1, devices / 5); }

std::vector<DeviceSpec> make_fleet(std::string_view prefix, std::uint64_t start_index, std::uint64_t count,
                                   std::uint64_t users, std::optional<Profile> only) {
    std::vector<DeviceSpec> fleet;
    fleet.reserve(count);
    for (std::uint64_t i = start_index; i < start_index + count; ++i)
        fleet.push_back({i, device_id(prefix, i), user_id(prefix, i, users), only.value_or(profile_for_index(i))});
    return fleet;
}

}  // namespace energyhub::sim
