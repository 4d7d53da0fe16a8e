#pragma once
// Everyone who may log in: devices and MQTT accounts, by username. A Directory is immutable once
// built; the refresher builds a new one and swaps it in atomically, so the broker thread reads
// without locks and never waits for the database. Entries are spread over shards, and a change
// copies only the shards it touches, so a registry of millions of devices is cheap to update.
#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/policy.hpp"
#include "broker/string_hash.hpp"

namespace energyhub::broker {

struct Principal {
    Role role = Role::device;
    bool conflict = false;     // the name is both a device and an account: nobody may use it
    std::string secret_hash;   // "$7$..." as mosquitto_passwd writes it
    std::string user_id;       // the device's owner, or the dashboard's user

    // The id the policy's templates refer to.
    std::string_view policy_id(std::string_view username) const {
        return role == Role::dashboard ? std::string_view(user_id) : username;
    }
    bool same_access(const Principal& other) const {
        return role == other.role && conflict == other.conflict && secret_hash == other.secret_hash &&
               user_id == other.user_id;
    }
};

class Directory {
public:
    using Map = std::unordered_map<std::string, Principal, StringHash, std::equal_to<>>;
    // One change: the principal now stored under `name`, or nullopt when it is gone.
    struct Change {
        std::string name;
        std::optional<Principal> principal;
    };

    Directory();  // empty
    explicit Directory(Map all);

    const Principal* find(std::string_view name) const;
    std::size_t size() const { return size_; }

    // A new directory with the changes applied; this one is left as it is. `revoked` receives
    // the names whose access ended or changed (their sessions should be closed).
    std::shared_ptr<const Directory> apply(const std::vector<Change>& changes, std::vector<std::string>* revoked) const;

    // Names present here whose access is gone or different in `next`.
    std::vector<std::string> revoked_in(const Directory& next) const;

private:
    static constexpr std::size_t kShards = 64;
    static std::size_t shard_of(std::string_view name);

    std::array<std::shared_ptr<const Map>, kShards> shards_;
    std::size_t size_ = 0;
};

}  // namespace energyhub::broker
