// `energyhub nats-mappings` and `nats-auth`: what the nodes of a NATS cluster need from the
// configuration and the registry in fleet mode (docs/scale-out.md).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <pqxx/pqxx>

#include "commands.hpp"
#include "config/nats_fleet.hpp"

namespace energyhub::app {

namespace {

NatsUser::Role account_role(const std::string& role, const std::string& daemon) {
    if (role == "dashboard") return NatsUser::Role::dashboard;
    if (daemon == "notifier") return NatsUser::Role::notifier;
    if (daemon == "insights") return NatsUser::Role::insights;
    return NatsUser::Role::hub;
}

// Every device and account with a NATS password; the count of those without one.
std::vector<NatsUser> nats_users(pqxx::connection& conn, long long& without) {
    pqxx::read_transaction tx(conn);
    std::vector<NatsUser> users;
    for (const auto& r : tx.exec("SELECT device_id, nats_hash FROM devices WHERE nats_hash IS NOT NULL ORDER BY 1"))
        users.push_back({NatsUser::Role::device, r[0].as<std::string>(), r[1].as<std::string>(), {}});
    for (const auto& r : tx.exec("SELECT username, nats_hash, role, coalesce(daemon, ''), coalesce(user_id, '') "
                                 "FROM mqtt_accounts WHERE nats_hash IS NOT NULL ORDER BY 1"))
        users.push_back({account_role(r[2].as<std::string>(), r[3].as<std::string>()), r[0].as<std::string>(),
                         r[1].as<std::string>(), r[4].as<std::string>()});
    without = tx.exec1(
                    "SELECT (SELECT count(*) FROM devices WHERE nats_hash IS NULL) + "
                    "(SELECT count(*) FROM mqtt_accounts WHERE nats_hash IS NULL)")[0]
                  .as<long long>();
    return users;
}

// Replaces `path` in one rename, so a node reloading meanwhile reads the old file or the new one.
void write_atomically(const std::string& path, const std::string& text) {
    const auto tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << text;
        out.flush();
        if (!out) throw std::runtime_error("cannot write " + tmp);
    }
    std::filesystem::rename(tmp, path);
}

}  // namespace

void add_nats_commands(CLI::App& app, const std::string& config_path, int& exit_code) {
    app.add_subcommand("nats-mappings",
                       "Print the NATS subject mappings that give each device to one hub (mqtt.broker nats)")
        ->callback([&] { std::cout << nats_mappings(load_config(config_path)); });

    static std::string output;
    auto* auth = app.add_subcommand(
        "nats-auth", "Print the NATS users and permissions of every device and account (mqtt.broker nats)");
    auth->add_option("--output", output, "Write the file in one rename instead of printing it");
    auth->callback([&] {
        const auto config = load_config(config_path);
        pqxx::connection conn(config.postgres.dsn);
        long long without = 0;
        const auto users = nats_users(conn, without);
        const auto text = nats_authorization(config, users);
        if (output.empty()) {
            std::cout << text;
        } else {
            write_atomically(output, text);
            std::cerr << "energyhub: wrote " << users.size() << " NATS users to " << output << '\n';
        }
        if (without > 0) {
            std::cerr << "energyhub: " << without << " devices and accounts have no NATS password (registered before "
                      << "mqtt.broker nats): 'energyhub device secret ID' gives a device one\n";
            exit_code = 1;
        }
    });
}

}  // namespace energyhub::app
