#pragma once
// `energyhub insights`: the insight scheduler daemon (until SIGTERM), or with `once` a single run
// over all users (or `user`) right now.
#include <string>

#include "config/config.hpp"

namespace energyhub {

// Returns the process exit code: 0 ok, 1 runtime failure, 2 unknown user.
int run_insights(const Config& config, bool once, const std::string& user);

}  // namespace energyhub
