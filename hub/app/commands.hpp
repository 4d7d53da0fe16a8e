#pragma once
// The subcommands of `energyhub`, each a small function over energyhub_core.
#include <string>

#include <CLI/CLI.hpp>

namespace energyhub::app {

// Adds `user`, `device` and `usage` to the command line; `config_path` is read when they run.
void add_registry_commands(CLI::App& app, const std::string& config_path, int& exit_code);

}  // namespace energyhub::app
