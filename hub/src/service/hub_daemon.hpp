#pragma once
// `energyhub hub`: MQTT in, spool, ingest worker, PostgreSQL out, until SIGTERM.
#include "config/config.hpp"

namespace energyhub {

// Returns the process exit code.
int run_hub(const Config& config, const std::string& config_path);

}  // namespace energyhub
