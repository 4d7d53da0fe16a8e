#pragma once
// The alert event JSON of DESIGN.md: {"id","user_id","device_id","rule","state","value",
// "threshold","since","ts","message"}, published on alerts/<user>/<device>.
#include <optional>
#include <string>
#include <string_view>

#include "domain/alert.hpp"

namespace energyhub {

std::string alert_to_json(const Alert& alert);

// nullopt for anything that is not a well-formed alert event.
std::optional<Alert> alert_from_json(std::string_view json);

}  // namespace energyhub
