#pragma once
// Client ids belong to accounts. A second login under a client id already in use takes the first
// one's session away: the broker disconnects it and, worse, may drop the messages it holds for
// it after checking them against the newcomer's ACL. So a device that knows the hub's client id
// could destroy readings the broker had acknowledged. Two rules stop that:
//   * a client id beginning with the service prefix ("energyhub-", the daemons' defaults) is for
//     service accounts only;
//   * a client id, once used, stays bound to its account for the broker's run: another account
//     presenting it is refused (the same account may reconnect at will).
// A binding ends when its account is removed or changed in the registry. Broker thread only.
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

#include "broker/policy.hpp"
#include "broker/string_hash.hpp"

namespace energyhub::broker {

class ClientIds {
public:
    // At most `max_bindings` ids are remembered; past that, new ids of devices are not bound
    // (service accounts' always are).
    ClientIds(std::string service_prefix, std::size_t max_bindings)
        : service_prefix_(std::move(service_prefix)), max_bindings_(max_bindings) {}

    // nullptr when `username` may connect as `client_id` (which is then bound to it), else the
    // reason for the log.
    const char* claim(std::string_view client_id, std::string_view username, Role role);

    // The registry removed or changed the account: its client ids are free again.
    void release(std::string_view username);

    std::size_t size() const { return owner_.size(); }

private:
    std::string service_prefix_;
    std::size_t max_bindings_;
    std::unordered_map<std::string, std::string, StringHash, std::equal_to<>> owner_;  // client id -> username
};

bool is_service_role(Role role);

}  // namespace energyhub::broker
