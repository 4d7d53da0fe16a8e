#pragma once
// Home Assistant MQTT discovery: the retained config messages that make a device's power, energy,
// voltage and current appear in Home Assistant (and its Energy dashboard) without any YAML.
//
//   topic    <prefix>/sensor/energyhub/<object id>_<sensor>/config       (retained, QoS 1)
//   payload  {"unique_id", "name", "state_topic": "<state prefix>/<user>/<device>/state",
//             "value_template", "unit_of_measurement", "device_class", "state_class",
//             "availability": [hub status, device availability], "device": {...}, "origin": {...}}
//
// Energy is reported in kWh (the state carries Wh; the template divides) with state_class
// total_increasing, which is what the Energy dashboard accepts: "energy" is the import counter
// ("Grid consumption" of a grid meter), "energy_export" the export counter ("Return to grid").
// Power is net: negative while a meter exports. A channel "<device>:<n>" is an
// entity of its registered device ("Channel <n> power"). An empty retained payload on the same
// topic removes the entity. No I/O here: the worker publishes what these functions build.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "domain/reading.hpp"

namespace energyhub {

enum class HaSensor : std::uint8_t { power, energy, energy_export, voltage, current };
constexpr std::array<HaSensor, 5> kHaSensors = {HaSensor::power, HaSensor::energy, HaSensor::energy_export,
                                                HaSensor::voltage, HaSensor::current};

constexpr unsigned ha_bit(HaSensor s) { return 1u << static_cast<unsigned>(s); }

// The sensors a reading has values for, as ha_bit()s.
unsigned ha_sensors_of(const Reading& r);

std::string_view ha_sensor_name(HaSensor s);  // "power", "energy", ...

struct HaDiscoverySettings {
    std::string prefix = "homeassistant";  // Home Assistant's discovery prefix
    std::string state_prefix = "energy";   // the hub's state topics: <state_prefix>/<user>/<device>/state
    std::string hub_status_topic = "energyhub/status/hub";  // empty: entities follow the device alone
};

// "<device>:<n>" -> a string of [A-Za-z0-9_-] only, different for different ids ('_' -> "__",
// '.' -> "_d", ':' -> "_c"), as discovery topics require.
std::string ha_object_id(std::string_view device_id);

std::string ha_discovery_topic(const HaDiscoverySettings& s, std::string_view device_id, HaSensor sensor);

// The config of one sensor of `device_id` (the device itself or one of its channels), owned by
// `device` (the registry record of the device).
std::string ha_discovery_payload(const HaDiscoverySettings& s, const DeviceRef& device, std::string_view device_id,
                                 HaSensor sensor);

// Where the hub says whether a device is online: retained "online" / "offline".
std::string device_availability_topic(std::string_view state_prefix, std::string_view user_id,
                                      std::string_view device_id);

// Where the hub publishes a device's latest reading: retained JSON.
std::string device_state_topic(std::string_view state_prefix, std::string_view user_id, std::string_view device_id);

}  // namespace energyhub
