#pragma once
// The subcommands of `energyhub`, each a small function over energyhub_core.
#include <string>

#include <CLI/CLI.hpp>

#include "config/config.hpp"

namespace energyhub::app {

// Adds `user`, `device` and `usage` to the command line; `config_path` is read when they run.
void add_registry_commands(CLI::App& app, const std::string& config_path, int& exit_code);

// Adds `account` (MQTT service and dashboard accounts for the broker plugin).
void add_account_commands(CLI::App& app, const std::string& config_path, int& exit_code);

// Adds `nats-mappings` and `nats-auth` (fleet mode on a NATS cluster).
void add_nats_commands(CLI::App& app, const std::string& config_path, int& exit_code);

// Tries every server the config names (PostgreSQL, MQTT, Redis, SMTP, Ollama); prints one line
// each. False when a required one cannot be reached.
bool check_connections(const Config& config);

// `energyhub status`: one screen of what runs and what arrives; 1 when something required is down.
int print_status(const Config& config);

}  // namespace energyhub::app
