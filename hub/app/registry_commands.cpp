// user add/list, device add/list/remove, usage.
#include <cstdio>
#include <iostream>
#include <optional>
#include <stdexcept>

#include <pqxx/pqxx>

#include "commands.hpp"
#include "config/config.hpp"
#include "postgres/registry.hpp"
#include "redis/device_cache.hpp"
#include "security/device_certificate.hpp"
#include "util/clock.hpp"
#include "util/duration.hpp"
#include "util/private_file.hpp"

namespace energyhub::app {

namespace {

struct RegistryArgs {
    std::string id;
    std::string email;
    std::string name;
    std::string cert_dir;  // device add --cert: write <id>.crt and <id>.key here
    std::string tz = "UTC";
    std::string user;
    std::string type = "plug";
    std::string device;
    std::string since = "24h";
};

// Registry errors are the user's to fix: exit 2 with the message.
template <typename Fn>
void with_registry(const std::string& config_path, int& exit_code, Fn fn) {
    auto config = load_config(config_path);
    pqxx::connection conn(config.postgres.dsn);
    postgres::Registry registry(conn, config.mqtt.broker == BrokerKind::nats);
    try {
        fn(registry, conn, config);
    } catch (const postgres::RegistryError& e) {
        std::cerr << "energyhub: " << e.what() << '\n';
        exit_code = 2;
    }
}

// Running hubs evict through the device change log; Redis is cleared here too, so a hub that
// starts later does not find a stale entry there.
void forget_in_redis(const Config& config, const std::string& device_id) {
    if (config.redis.uri.empty()) return;
    redis::DeviceCache cache(config.redis, SystemClock::instance());
    cache.erase(device_id);
}

void print_usage(pqxx::connection& conn, const std::string& device, std::chrono::milliseconds since) {
    pqxx::read_transaction tx(conn);
    auto rows = tx.exec_params(
        "SELECT to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), energy_wh / 1000.0, "
        "       CASE WHEN power_samples > 0 THEN power_sum / power_samples END, power_max, samples, export_wh / 1000.0 "
        "FROM readings_hourly WHERE device_id = $1 AND hour >= date_trunc('hour', now() - $2 * interval '1 millisecond', 'UTC') "
        "ORDER BY hour",
        device, static_cast<long long>(since.count()));
    // "kWh" is import (used); "export kWh" what went back to the grid (meters that report it).
    std::printf("%-17s %10s %10s %10s %10s %8s\n", "hour (UTC)", "kWh", "export kWh", "avg W", "peak W", "samples");
    double total = 0, total_export = 0, peak = -std::numeric_limits<double>::infinity();
    for (const auto& r : rows) {
        double kwh = r[1].as<double>();
        double export_kwh = r[5].as<double>();
        double avg = r[2].is_null() ? 0 : r[2].as<double>();
        double max = r[3].is_null() ? 0 : r[3].as<double>();
        total += kwh;
        total_export += export_kwh;
        if (!r[3].is_null()) peak = std::max(peak, max);
        std::printf("%-17s %10.3f %10.3f %10.1f %10.1f %8d\n", r[0].c_str(), kwh, export_kwh, avg, max, r[4].as<int>());
    }
    std::printf("%-17s %10.3f %10.3f %10s %10.1f\n", "total", total, total_export, "", std::isfinite(peak) ? peak : 0.0);
}

}  // namespace

void add_registry_commands(CLI::App& app, const std::string& config_path, int& exit_code) {
    auto args = std::make_shared<RegistryArgs>();

    auto* user = app.add_subcommand("user", "Manage users");
    user->require_subcommand(1);
    auto* user_add = user->add_subcommand("add", "Add a user");
    user_add->add_option("user_id", args->id, "User id, [A-Za-z0-9_.-]{1,64}")->required();
    user_add->add_option("--email", args->email, "Where alerts are sent")->required();
    user_add->add_option("--name", args->name, "Display name");
    user_add->add_option("--tz", args->tz, "IANA time zone, e.g. Europe/Berlin")->capture_default_str();
    user_add->callback([&, args] {
        with_registry(config_path, exit_code, [&](postgres::Registry& r, pqxx::connection&, const Config&) {
            r.add_user({args->id, args->email, args->name, args->tz});
            std::cout << "added user " << args->id << '\n';
        });
    });
    user->add_subcommand("list", "List users")->callback([&] {
        with_registry(config_path, exit_code, [&](postgres::Registry& r, pqxx::connection&, const Config&) {
            std::printf("%-24s %-32s %-20s %s\n", "user", "email", "tz", "name");
            for (const auto& u : r.users())
                std::printf("%-24s %-32s %-20s %s\n", u.user_id.c_str(), u.email.c_str(), u.tz.c_str(), u.name.c_str());
        });
    });

    auto* device = app.add_subcommand("device", "Manage devices");
    device->require_subcommand(1);
    auto* device_add = device->add_subcommand("add", "Register a device; prints its MQTT secret once");
    device_add->add_option("device_id", args->id, "Device id, [A-Za-z0-9_.-]{1,64}")->required();
    device_add->add_option("--user", args->user, "Owner's user id")->required();
    device_add->add_option("--type", args->type, "Device type (plug, meter, heatpump, ...)")->capture_default_str();
    device_add->add_option("--name", args->name, "Display name");
    device_add
        ->add_option("--cert", args->cert_dir,
                     "Also issue a client certificate from device_ca (CN = the device id) into DIR/<id>.crt and "
                     "DIR/<id>.key, for the broker's certificate listener")
        ->check(CLI::ExistingDirectory);
    device_add->callback([&, args] {
        with_registry(config_path, exit_code, [&](postgres::Registry& r, pqxx::connection&, const Config& config) {
            std::optional<DeviceCertificate> cert;
            if (!args->cert_dir.empty()) {
                if (config.device_ca.cert_file.empty())
                    throw postgres::RegistryError(
                        "--cert needs device_ca.cert_file and device_ca.key_file in the config");
                cert = issue_device_certificate(args->id, config.device_ca.cert_file, config.device_ca.key_file,
                                                config.device_ca.days);
            }
            auto secret = r.add_device({args->id, args->user, args->type, args->name});
            if (cert) {
                const auto base = args->cert_dir + "/" + args->id;
                write_private_file(base + ".key", cert->key_pem);
                write_private_file(base + ".crt", cert->cert_pem, 0644);
                std::cout << "client certificate: " << base << ".crt (key " << base << ".key, valid "
                          << config.device_ca.days << " days)\n";
            }
            std::cout << "added device " << args->id << " for " << args->user << '\n'
                      << "mqtt username: " << args->id << '\n'
                      << "mqtt password: " << secret << "   (shown once; only its hash is stored)\n";
        });
    });
    auto* device_secret = device->add_subcommand("secret", "Issue a new MQTT secret for a device; prints it once");
    device_secret->add_option("device_id", args->id, "Device id")->required();
    device_secret->callback([&, args] {
        with_registry(config_path, exit_code, [&](postgres::Registry& r, pqxx::connection&, const Config&) {
            auto secret = r.new_device_secret(args->id);
            std::cout << "new secret for device " << args->id << " (the old one no longer works)\n"
                      << "mqtt username: " << args->id << '\n'
                      << "mqtt password: " << secret << "   (shown once; only its hash is stored)\n";
        });
    });
    auto* device_list = device->add_subcommand("list", "List devices");
    device_list->add_option("--user", args->user, "Only this user's devices");
    device_list->callback([&, args] {
        with_registry(config_path, exit_code, [&](postgres::Registry& r, pqxx::connection&, const Config&) {
            std::printf("%-24s %-24s %-12s %s\n", "device", "user", "type", "name");
            for (const auto& d : r.devices(args->user))
                std::printf("%-24s %-24s %-12s %s\n", d.device_id.c_str(), d.user_id.c_str(), d.type.c_str(), d.name.c_str());
        });
    });
    auto* device_remove = device->add_subcommand("remove", "Remove a device (its readings stay)");
    device_remove->add_option("device_id", args->id, "Device id")->required();
    device_remove->callback([&, args] {
        with_registry(config_path, exit_code, [&](postgres::Registry& r, pqxx::connection&, const Config& config) {
            if (!r.remove_device(args->id)) throw postgres::RegistryError("no device '" + args->id + "'");
            forget_in_redis(config, args->id);
            std::cout << "removed device " << args->id << '\n';
        });
    });

    auto* usage = app.add_subcommand("usage", "Hourly energy and peak power of a device");
    usage->add_option("--device", args->device, "Device id")->required();
    usage->add_option("--since", args->since, "How far back, e.g. 24h, 7d")->capture_default_str();
    usage->callback([&, args] {
        auto since = parse_duration(args->since);
        if (!since) throw CLI::ValidationError("--since", "'" + args->since + "' is not a duration such as 24h or 7d");
        with_registry(config_path, exit_code, [&](postgres::Registry&, pqxx::connection& conn, const Config&) {
            print_usage(conn, args->device, *since);
        });
    });
}

}  // namespace energyhub::app
