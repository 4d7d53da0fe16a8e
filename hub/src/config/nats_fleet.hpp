#pragma once
// Fleet mode on a NATS cluster (mqtt.broker: nats; docs/scale-out.md). NATS carries an MQTT topic
// as a subject, '/' becoming '.', and its subject mappings can hash a token into one of n
// partitions: "energy.*.reading" -> "hub.{{partition(n,1)}}.energy.{{wildcard(1)}}.reading". With
// one such mapping per reading filter, keyed on the device level, the hub of partition i subscribes
// "hub/<i>/<filter>" and receives exactly its devices' messages, in every format, from any node:
// device affinity from the broker, not from hubs that each receive everything (hub.partition on a
// single broker).
#include <cstdint>
#include <string>

#include "config/config.hpp"
#include "config/section.hpp"

namespace energyhub {

// "hub/<partition>/<filter>": where the mappings put a filter's messages of one partition.
std::string partition_filter(const std::string& filter, std::uint32_t partition);

// The configuration the hub of hub.partition runs with on NATS: every reading filter under its
// partition's root, and no filtering by device in the hub (the mappings did it).
Config with_broker_partition(Config config);

// The `mappings` block of nats-server's configuration for the filters and hub.partition count
// of `config` (which must be in fleet mode).
std::string nats_mappings(const Config& config);

// Fleet mode's rules, checked when the configuration is loaded: QoS 0 or 1 and MQTT 3.1.1 (NATS
// has no QoS 2 and no MQTT 5), no share group (NATS does not spread one across nodes), hub.partition
// set, and reading filters that NATS can map unambiguously: no '#', no '.' in a level, no two that
// overlap, none that also matches a topic the daemons publish (the mapping would move it).
void check_nats_fleet(Section& top, const Config& config);

}  // namespace energyhub
