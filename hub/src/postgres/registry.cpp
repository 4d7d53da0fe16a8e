#include "postgres/registry.hpp"

#include "domain/ids.hpp"
#include "domain/text.hpp"
#include "security/bcrypt.hpp"
#include "security/password.hpp"

namespace energyhub::postgres {

namespace {

void require_id(const std::string& kind, const std::string& id) {
    if (!is_valid_id(id)) throw RegistryError(kind + " id '" + id + "' must match [A-Za-z0-9_.-]{1,64}");
}

// The message names the field, not the text: it may be what cannot be printed.
void require_name(const std::string& what, const std::string& name) {
    if (!is_display_text(name, kMaxDisplayName))
        throw RegistryError(what + " must be at most " + std::to_string(kMaxDisplayName) +
                            " characters of UTF-8 text without control characters");
}

DeviceRecord device_from(const pqxx::row& r) {
    return {r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].is_null() ? "" : r[3].as<std::string>()};
}

}  // namespace

std::string Registry::nats_hash(const std::string& secret) const { return nats_ ? hash_bcrypt(secret) : std::string(); }

void Registry::add_user(const UserRecord& user) {
    require_id("user", user.user_id);
    require_name("the user's name", user.name);
    if (user.email.size() > kMaxEmailBytes || !is_display_text(user.email, kMaxEmailBytes) ||
        user.email.find('@') == std::string::npos || user.email.find_first_of(" <>\"(),;:\\[]") != std::string::npos)
        throw RegistryError("the email must be an address such as alice@example.com, at most " +
                            std::to_string(kMaxEmailBytes) + " bytes");
    pqxx::work tx(conn_);
    if (!known_zones_.contains(user.tz)) {
        if (tx.exec_params("SELECT 1 FROM pg_timezone_names WHERE name = $1", user.tz).empty())
            throw RegistryError("unknown time zone '" + user.tz + "'");
        known_zones_.insert(user.tz);
    }
    auto r = tx.exec_params(
        "INSERT INTO users (user_id, email, name, tz) VALUES ($1, $2, NULLIF($3, ''), $4) ON CONFLICT DO NOTHING "
        "RETURNING 1",
        user.user_id, user.email, user.name, user.tz);
    if (r.empty()) throw RegistryError("user '" + user.user_id + "' already exists");
    tx.commit();
}

std::vector<UserRecord> Registry::users() {
    pqxx::read_transaction tx(conn_);
    std::vector<UserRecord> out;
    for (const auto& r : tx.exec("SELECT user_id, email, coalesce(name, ''), tz FROM users ORDER BY user_id"))
        out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>()});
    return out;
}

std::string Registry::add_device(const DeviceRecord& device) {
    require_id("device", device.device_id);
    if (nats_ && device.device_id.find('.') != std::string::npos)
        throw RegistryError("device id '" + device.device_id +
                            "' cannot publish through NATS (mqtt.broker nats), which takes '.' as a topic separator: "
                            "use '-' or '_'");
    require_id("user", device.user_id);
    if (device.type.empty() || device.type.size() > 32 || !is_valid_id(device.type))
        throw RegistryError("device type must be 1 to 32 characters of [A-Za-z0-9_.-], such as plug, grid or pv");
    require_name("the device's name", device.name);
    auto secret = generate_secret();
    pqxx::work tx(conn_);
    if (tx.exec_params("SELECT 1 FROM users WHERE user_id = $1", device.user_id).empty())
        throw RegistryError("no user '" + device.user_id + "': add it first with 'energyhub user add'");
    auto r = tx.exec_params(
        "INSERT INTO devices (device_id, user_id, type, name, secret_hash, nats_hash) "
        "VALUES ($1, $2, $3, NULLIF($4, ''), $5, NULLIF($6, '')) ON CONFLICT DO NOTHING RETURNING 1",
        device.device_id, device.user_id, device.type, device.name, hash_password(secret), nats_hash(secret));
    if (r.empty()) throw RegistryError("device '" + device.device_id + "' already exists");
    tx.commit();
    return secret;
}

std::string Registry::new_device_secret(const std::string& device_id) {
    require_id("device", device_id);
    auto secret = generate_secret();
    pqxx::work tx(conn_);
    auto r = tx.exec_params(
        "UPDATE devices SET secret_hash = $2, nats_hash = NULLIF($3, '') WHERE device_id = $1 RETURNING 1", device_id,
        hash_password(secret), nats_hash(secret));
    if (r.empty()) throw RegistryError("no device '" + device_id + "'");
    tx.commit();  // the change log tells the broker plugin, which closes the device's sessions
    return secret;
}

bool Registry::remove_device(const std::string& device_id) {
    require_id("device", device_id);
    pqxx::work tx(conn_);
    auto r = tx.exec_params("DELETE FROM devices WHERE device_id = $1 RETURNING 1", device_id);
    tx.commit();
    return !r.empty();
}

std::vector<DeviceRecord> Registry::devices(const std::string& user_id) {
    pqxx::read_transaction tx(conn_);
    std::vector<DeviceRecord> out;
    for (const auto& r : tx.exec_params("SELECT device_id, user_id, type, name FROM devices "
                                        "WHERE $1 = '' OR user_id = $1 ORDER BY device_id",
                                        user_id))
        out.push_back(device_from(r));
    return out;
}

std::optional<DeviceRecord> Registry::find_device(const std::string& device_id) {
    pqxx::read_transaction tx(conn_);
    auto r = tx.exec_params("SELECT device_id, user_id, type, name FROM devices WHERE device_id = $1", device_id);
    if (r.empty()) return std::nullopt;
    return device_from(r[0]);
}

}  // namespace energyhub::postgres
