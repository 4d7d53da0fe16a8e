#include "broker/client_ids.hpp"

namespace energyhub::broker {

bool is_service_role(Role role) { return role == Role::hub || role == Role::notifier || role == Role::insights; }

const char* ClientIds::claim(std::string_view client_id, std::string_view username, Role role) {
    const bool service = is_service_role(role);
    if (!service && !service_prefix_.empty() && client_id.substr(0, service_prefix_.size()) == service_prefix_)
        return "client id reserved for the energyhub daemons";
    if (auto it = owner_.find(client_id); it != owner_.end()) {
        if (it->second != username) return "client id in use by another account";
        return nullptr;
    }
    if (service || owner_.size() < max_bindings_) owner_.emplace(std::string(client_id), std::string(username));
    return nullptr;
}

void ClientIds::release(std::string_view username) {
    std::erase_if(owner_, [&](const auto& binding) { return binding.second == username; });
}

}  // namespace energyhub::broker
