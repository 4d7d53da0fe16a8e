#pragma once
// --register: makes the simulated users and devices known to the hub before they publish.
#include <cstddef>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "fleet.hpp"
#include "secrets.hpp"

namespace energyhub::sim {

struct RegistrationResult {
    std::size_t users_added = 0;
    std::size_t users_existing = 0;
    std::size_t devices_added = 0;
    std::size_t devices_existing = 0;
    std::size_t secrets_renewed = 0;
};

// Adds the fleet's users and devices that the registry does not have yet; existing ones are left
// as they are. With secrets, every device of the fleet ends up in it: a new device with the secret
// it was registered with, a known one missing from it with a new secret (the old one stops
// working). Throws on database errors and on ids the registry refuses.
RegistrationResult register_fleet(const Config& config, const std::vector<DeviceSpec>& fleet,
                                  DeviceSecrets* secrets = nullptr);

}  // namespace energyhub::sim
