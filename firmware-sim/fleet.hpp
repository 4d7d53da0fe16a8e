#pragma once
// Who the simulated devices are: ids, owners and profiles, derived from the command line alone so
// that separate runs (and --register) agree on them.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "profiles.hpp"

namespace energyhub::sim {

struct DeviceSpec {
    std::uint64_t index = 0;
    std::string device_id;
    std::string user_id;
    Profile profile = Profile::standby;
};

// "<prefix>-00042": five digits at least, so ids sort in index order in most fleets.
std::string device_id(std::string_view prefix, std::uint64_t index);

// "<prefix>-user-<index % users>".
std::string user_id(std::string_view prefix, std::uint64_t index, std::uint64_t users);

// About five devices per household.
std::uint64_t default_user_count(std::uint64_t devices);

// Devices take the household mix by index (profile_for_index), or all `only` when given.
std::vector<DeviceSpec> make_fleet(std::string_view prefix, std::uint64_t start_index, std::uint64_t count,
                                   std::uint64_t users, std::optional<Profile> only = std::nullopt);

}  // namespace energyhub::sim
