#pragma once
// Users and devices: what the registry commands change and the hub looks up.
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include <pqxx/pqxx>

#include "domain/reading.hpp"

namespace energyhub::postgres {

struct UserRecord {
    std::string user_id;
    std::string email;
    std::string name;
    std::string tz = "UTC";
};

// A request the registry refuses (bad id, unknown owner, duplicate): the message is for the user.
class RegistryError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Registry {
public:
    // nats: the devices publish through a NATS cluster (mqtt.broker nats), where a topic level
    // becomes a subject token, so ids must not contain '.', which separates tokens; and their
    // secrets are also stored as bcrypt, the hash nats-server checks (energyhub nats-auth).
    explicit Registry(pqxx::connection& conn, bool nats = false) : conn_(conn), nats_(nats) {}

    void add_user(const UserRecord& user);
    std::vector<UserRecord> users();

    // Returns the device's MQTT secret; only its hash is stored.
    std::string add_device(const DeviceRecord& device);
    bool remove_device(const std::string& device_id);
    // A new MQTT secret for a known device (the old one stops working); returns it.
    std::string new_device_secret(const std::string& device_id);
    std::vector<DeviceRecord> devices(const std::string& user_id = {});
    std::optional<DeviceRecord> find_device(const std::string& device_id);

private:
    std::string nats_hash(const std::string& secret) const;  // "" unless nats_

    pqxx::connection& conn_;
    bool nats_;
    // Zones PostgreSQL accepted: its pg_timezone_names view reads the zone files on every query,
    // tens of milliseconds, too slow to repeat for each user of a registered fleet.
    std::unordered_set<std::string> known_zones_;
};

}  // namespace energyhub::postgres
