#pragma once
// `energyhub notifier`: emails each alert transition to its owner once.
#include <string>

#include "config/config.hpp"

namespace energyhub {

// Returns the process exit code.
int run_notifier(const Config& config, const std::string& config_path);

}  // namespace energyhub
