#pragma once
// The simulated devices of one publishing engine and their next readings: each device's topic (built
// once), power model and payload format. Both engines (one MQTT client per thread, and the event
// loop over many connections) publish what this yields. No I/O, nothing allocated per reading.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fleet.hpp"
#include "house.hpp"
#include "payload.hpp"
#include "profiles.hpp"
#include "vendor_payload.hpp"

namespace energyhub::sim {

struct FeedOptions {
    std::string topic_prefix = "energy";  // native readings go to <topic_prefix>/<device_id>/reading
    std::string format = "native";        // native | tasmota | shelly | mixed (vendor_payload.hpp)
    std::uint64_t seed = 1;
    int pv_noon_hour = 12;  // house profile: the UTC hour of the sun's highest point
};

class DeviceFeed {
public:
    DeviceFeed(const FeedOptions& options, std::vector<DeviceSpec> devices);

    std::size_t size() const { return devices_.size(); }
    const DeviceSpec& spec(std::size_t i) const { return devices_[i].spec; }
    const std::string& topic(std::size_t i) const { return devices_[i].topic; }

    struct Next {
        std::string_view payload;  // valid until the next call
        std::int64_t ts_ms;        // what the payload is dated
    };
    // Device i's next reading, dated `at` (default: now), strictly after its previous one:
    // (device_id, ts) is the readings table's primary key.
    Next next(std::size_t i, std::optional<std::int64_t> at = std::nullopt);

private:
    struct Device {
        DeviceSpec spec;
        std::string topic;
        DeviceModel model;
        std::optional<HouseModel> house;  // the house profile: a whole-home meter
        Format format = Format::native;
        std::int64_t last_ts_ms = 0;
        VendorState vendor{};
    };
    std::vector<Device> devices_;
    PayloadBuffer payload_{};
    VendorBuffer vendor_payload_{};
};

// The wall clock in milliseconds since the epoch, as readings are dated.
std::int64_t wall_clock_ms();

}  // namespace energyhub::sim
