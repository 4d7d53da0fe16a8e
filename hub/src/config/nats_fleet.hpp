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
#include <string_view>
#include <vector>

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

// FNV-1a (32 bit) of the device id, mod n: the partition nats-server's {{partition(n,1)}} gives
// the device (checked against nats-server 2.9.10).
std::uint32_t nats_partition(std::string_view device_id, std::uint32_t partitions);

// A user of the NATS cluster, from the registry: a device or an account, with its bcrypt hash.
struct NatsUser {
    enum class Role { device, hub, notifier, insights, dashboard };
    Role role;
    std::string name;           // the MQTT username: device id or account name
    std::string password_hash;  // "$2b$..."
    std::string user_id;        // a dashboard's user
};

// The `authorization` block of nats-server's configuration: every user with what it may publish
// and subscribe to, the rules the broker plugin applies on Mosquitto (plugins/broker/README.md)
// written as subjects. A device publishes its readings only into its own partition.
std::string nats_authorization(const Config& config, const std::vector<NatsUser>& users);

// Fleet mode's rules, checked when the configuration is loaded: QoS 0 or 1 and MQTT 3.1.1 (NATS
// has no QoS 2 and no MQTT 5), no share group (NATS does not spread one across nodes), hub.partition
// set, and reading filters that NATS can map unambiguously: no '#', no '.' in a level, no two that
// overlap, none that also matches a topic the daemons publish (the mapping would move it).
void check_nats_fleet(Section& top, const Config& config);

}  // namespace energyhub
