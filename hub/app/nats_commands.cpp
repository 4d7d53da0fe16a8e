// `energyhub nats-mappings` and `nats-auth`: what the nodes of a NATS cluster need from the
// configuration and the registry in fleet mode (docs/scale-out.md).
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

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

// Where the registry's change logs stand: any device or account change moves it.
std::string change_mark(pqxx::connection& conn) {
    pqxx::read_transaction tx(conn);
    return tx
        .exec1(
            "SELECT (SELECT coalesce(max(seq), 0) FROM device_changes) || '/' || "
            "(SELECT coalesce(max(seq), 0) FROM mqtt_account_changes)")[0]
        .as<std::string>();
}

// Asks each nats-server to read its configuration again (SIGHUP), by its pid file.
void reload_servers(const std::vector<std::string>& pid_files) {
    for (const auto& file : pid_files) {
        std::ifstream in(file);
        long pid = 0;
        if (!(in >> pid) || pid <= 0 || ::kill(static_cast<pid_t>(pid), SIGHUP) != 0)
            std::cerr << "energyhub: cannot signal the nats-server of " << file << '\n';
    }
}

}  // namespace

void add_nats_commands(CLI::App& app, const std::string& config_path, int& exit_code) {
    app.add_subcommand("nats-mappings",
                       "Print the NATS subject mappings that give each device to one hub (mqtt.broker nats)")
        ->callback([&] { std::cout << nats_mappings(load_config(config_path)); });

    static std::string output;
    static bool watch = false;
    static std::vector<std::string> pid_files;
    auto* auth = app.add_subcommand(
        "nats-auth", "Print the NATS users and permissions of every device and account (mqtt.broker nats)");
    auth->add_option("--output", output, "Write the file in one rename instead of printing it");
    auth->add_flag("--watch", watch,
                   "With --output: keep running, and write the file again when devices or accounts change");
    auth->add_option("--reload-pid-file", pid_files,
                     "After each write, SIGHUP the nats-server of this pid file (repeatable)");
    auth->callback([&] {
        const auto config = load_config(config_path);
        if (watch && output.empty()) throw CLI::ValidationError("--watch", "needs --output");
        pqxx::connection conn(config.postgres.dsn);
        std::string written;  // the change mark of the last file written
        for (;;) {
            const auto mark = change_mark(conn);  // before reading: a change meanwhile shows at the next look
            if (mark != written) {
                long long without = 0;
                const auto users = nats_users(conn, without);
                const auto text = nats_authorization(config, users);
                if (output.empty()) {
                    std::cout << text;
                } else {
                    write_atomically(output, text);
                    reload_servers(pid_files);
                    std::cerr << "energyhub: wrote " << users.size() << " NATS users to " << output
                              << (pid_files.empty() ? "" : " and reloaded the servers") << '\n';
                }
                if (without > 0) {
                    std::cerr << "energyhub: " << without << " devices and accounts have no NATS password (registered "
                              << "before mqtt.broker nats): 'energyhub device secret ID' gives a device one\n";
                    exit_code = 1;
                }
                written = mark;
            }
            if (!watch) return;
            std::this_thread::sleep_for(std::chrono::seconds(2));
        }
    });
}

}  // namespace energyhub::app
