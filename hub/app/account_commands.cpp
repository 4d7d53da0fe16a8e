// account add/list/remove: the MQTT accounts that are not devices. A service account is what a
// daemon (hub, notifier, insights) logs in with; a dashboard account reads one user's topics.
// The broker plugin picks up every change within about a second (mqtt_account_changes).
#include <cstdio>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <vector>

#include <pqxx/pqxx>

#include "commands.hpp"
#include "config/config.hpp"
#include "domain/ids.hpp"
#include "security/bcrypt.hpp"
#include "security/password.hpp"

namespace energyhub::app {

namespace {

// A request refused for the user to fix: exit 2 with this one line.
class AccountError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct AccountArgs {
    std::string name;
    std::string role;
    std::string daemon;
    std::string user;
};

struct AccountRow {
    std::string username;
    std::string role;
    std::string scope;  // the daemon, or the user
    std::string created;
};

class AccountStore {
public:
    // nats: also store the password as bcrypt for the NATS cluster's users (mqtt.broker nats).
    AccountStore(pqxx::connection& conn, bool nats) : conn_(conn), nats_(nats) {}

    // Returns the generated password; only its hash is stored.
    std::string add(const AccountArgs& a) {
        if (!is_valid_id(a.name)) throw AccountError("account name '" + a.name + "' must match [A-Za-z0-9_.-]{1,64}");
        if (a.role == "service") {
            if (a.daemon.empty()) throw AccountError("--role service needs --daemon hub|notifier|insights");
            if (!a.user.empty()) throw AccountError("--user is for dashboard accounts, not service accounts");
        } else {
            if (a.user.empty()) throw AccountError("--role dashboard needs --user <user_id>");
            if (!a.daemon.empty()) throw AccountError("--daemon is for service accounts, not dashboard accounts");
        }
        auto password = generate_secret();
        pqxx::work tx(conn_);
        if (a.role == "dashboard" && tx.exec_params("SELECT 1 FROM users WHERE user_id = $1", a.user).empty())
            throw AccountError("no user '" + a.user + "': add it first with 'energyhub user add'");
        if (!tx.exec_params("SELECT 1 FROM devices WHERE device_id = $1", a.name).empty())
            throw AccountError("'" + a.name + "' is a device id; devices and accounts share the MQTT usernames");
        auto r = tx.exec_params(
            "INSERT INTO mqtt_accounts (username, password_hash, role, daemon, user_id, nats_hash) "
            "VALUES ($1, $2, $3, NULLIF($4, ''), NULLIF($5, ''), NULLIF($6, '')) ON CONFLICT DO NOTHING RETURNING 1",
            a.name, hash_password(password), a.role, a.daemon, a.user, nats_ ? hash_bcrypt(password) : std::string());
        if (r.empty()) throw AccountError("account '" + a.name + "' already exists");
        tx.commit();
        return password;
    }

    bool remove(const std::string& name) {
        if (!is_valid_id(name)) throw AccountError("account name '" + name + "' must match [A-Za-z0-9_.-]{1,64}");
        pqxx::work tx(conn_);
        auto r = tx.exec_params("DELETE FROM mqtt_accounts WHERE username = $1 RETURNING 1", name);
        tx.commit();
        return !r.empty();
    }

    std::vector<AccountRow> list() {
        pqxx::read_transaction tx(conn_);
        std::vector<AccountRow> out;
        for (const auto& r : tx.exec("SELECT username, role, coalesce(daemon, user_id), "
                                     "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') "
                                     "FROM mqtt_accounts ORDER BY username"))
            out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>()});
        return out;
    }

private:
    pqxx::connection& conn_;
    bool nats_;
};

template <typename Fn>
void with_accounts(const std::string& config_path, int& exit_code, Fn fn) {
    auto config = load_config(config_path);
    pqxx::connection conn(config.postgres.dsn);
    AccountStore store(conn, config.mqtt.broker == BrokerKind::nats);
    try {
        fn(store);
    } catch (const AccountError& e) {
        std::cerr << "energyhub: " << e.what() << '\n';
        exit_code = 2;
    } catch (const pqxx::undefined_table&) {
        std::cerr << "energyhub: table mqtt_accounts not found: run 'energyhub migrate' first\n";
        exit_code = 1;
    }
}

}  // namespace

void add_account_commands(CLI::App& app, const std::string& config_path, int& exit_code) {
    auto args = std::make_shared<AccountArgs>();

    auto* account = app.add_subcommand("account", "Manage MQTT accounts of the daemons and of dashboards");
    account->require_subcommand(1);

    auto* add = account->add_subcommand("add", "Add an account; prints its MQTT password once");
    add->add_option("name", args->name, "MQTT username, [A-Za-z0-9_.-]{1,64}")->required();
    add->add_option("--role", args->role, "service (a daemon) or dashboard (reads one user's topics)")
        ->required()
        ->check(CLI::IsMember({"service", "dashboard"}));
    add->add_option("--daemon", args->daemon, "For --role service: hub, notifier or insights")
        ->check(CLI::IsMember({"hub", "notifier", "insights"}));
    add->add_option("--user", args->user, "For --role dashboard: the user whose topics it reads");
    add->callback([&, args] {
        with_accounts(config_path, exit_code, [&](AccountStore& store) {
            auto password = store.add(*args);
            std::cout << "added " << args->role << " account " << args->name << " for "
                      << (args->role == "service" ? "the " + args->daemon + " daemon" : "user " + args->user) << '\n'
                      << "mqtt username: " << args->name << '\n'
                      << "mqtt password: " << password << "   (shown once; only its hash is stored)\n";
        });
    });

    account->add_subcommand("list", "List accounts")->callback([&] {
        with_accounts(config_path, exit_code, [&](AccountStore& store) {
            std::printf("%-24s %-10s %-24s %s\n", "account", "role", "daemon/user", "created (UTC)");
            for (const auto& a : store.list())
                std::printf("%-24s %-10s %-24s %s\n", a.username.c_str(), a.role.c_str(), a.scope.c_str(), a.created.c_str());
        });
    });

    auto* remove = account->add_subcommand("remove", "Remove an account; its open MQTT sessions are closed");
    remove->add_option("name", args->name, "MQTT username")->required();
    remove->callback([&, args] {
        with_accounts(config_path, exit_code, [&](AccountStore& store) {
            if (!store.remove(args->name)) throw AccountError("no account '" + args->name + "'");
            std::cout << "removed account " << args->name << '\n';
        });
    });
}

}  // namespace energyhub::app
