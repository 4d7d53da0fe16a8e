#pragma once
// The mqtt keys of the device formats (Tasmota, Shelly) and of Home Assistant discovery:
//
//   mqtt:
//     topics:
//       devices:                          # vendor formats; the hub subscribes to each filter
//         - {format: tasmota, filter: "tele/+/+"}
//         - {format: shelly, filter: "+/status/+"}
//       discovery_prefix: homeassistant   # empty: no Home Assistant discovery
//     tasmota_timezone: Europe/Berlin     # the zone of Tasmota's Time; empty: receive time
//
// Formats: tasmota, shelly (Gen2/Gen3), shelly_gen1; the native format keeps mqtt.topics.reading.
// In a filter the first '+' level is the device id. See config/energyhub.yaml.
#include <string>
#include <vector>

#include "config/section.hpp"
#include "domain/payload_format.hpp"

namespace energyhub {

// Reads topics.devices into `out`; throws ConfigError with file, line and key.
void read_device_topics(Section& topics, const std::string& reading_topic, std::vector<DeviceTopic>& out);

// Reads a zone name such as "Europe/Berlin" and checks that this machine knows it.
void read_time_zone(Section& s, const std::string& key, std::string& out);

}  // namespace energyhub
