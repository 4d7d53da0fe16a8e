// energyhub: one binary, one subcommand per daemon or task. Parses arguments, loads the config,
// runs, and maps failures to exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration.
#include <curl/curl.h>

#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "config/config.hpp"
#include "mqtt/paho_settings.hpp"
#include "postgres/migrator.hpp"
#include "postgres/partitions.hpp"
#include "service/hub_daemon.hpp"
#include "service/insights_daemon.hpp"
#include "service/notifier_daemon.hpp"
#include "util/clock.hpp"
#include "util/logging.hpp"

using namespace energyhub;

int main(int argc, char** argv) {
    // libcurl's process-wide setup (SMTP, Ollama, the status probes), once, before any thread.
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        std::cerr << "energyhub: cannot initialise libcurl\n";
        return 1;
    }
    quiet_paho_trace();
    CLI::App app{"energyhub: MQTT energy monitoring hub"};
    app.require_subcommand(1);
    app.fallthrough();  // --config may follow the subcommand
    app.failure_message([](const CLI::App*, const CLI::Error& e) {
        return "energyhub: " + std::string(e.what()) + " (see --help)\n";
    });
    std::string config_path = default_config_path();
    app.add_option("-c,--config", config_path, "YAML configuration file (default $ENERGYHUB_CONFIG or /etc/energyhub/energyhub.yaml)");
    int exit_code = 0;

    auto* hub = app.add_subcommand("hub", "Run the ingest hub: MQTT readings to PostgreSQL");
    hub->callback([&] {
        auto config = load_config(config_path);
        setup_logging(config.log.level, config.log.format);
        exit_code = run_hub(config, config_path);
    });

    auto* notifier = app.add_subcommand("notifier", "Email alert transitions to their owners");
    notifier->callback([&] {
        auto config = load_config(config_path);
        setup_logging(config.log.level, config.log.format);
        exit_code = run_notifier(config, config_path);
    });

    bool insights_once = false;
    std::string insights_user;
    auto* insights = app.add_subcommand("insights", "Run the insight scheduler: usage advice per user on a cron schedule");
    insights->add_flag("--once", insights_once, "Make one insight per user now, publish them and exit");
    insights->add_option("--user", insights_user, "With --once: only this user")->needs("--once");
    insights->callback([&] {
        auto config = load_config(config_path);
        setup_logging(config.log.level, config.log.format);
        exit_code = run_insights(config, insights_once, insights_user);
    });

    auto* migrate = app.add_subcommand("migrate", "Apply the database schema and create upcoming partitions");
    migrate->callback([&] {
        auto config = load_config(config_path);
        setup_logging(config.log.level, config.log.format);
        pqxx::connection conn(config.postgres.dsn);
        auto applied = postgres::migrate(conn);
        for (const auto& name : applied) std::cout << "applied " << name << '\n';
        if (applied.empty()) std::cout << "schema is up to date\n";
        postgres::PartitionManager partitions;
        partitions.maintain(conn, SystemClock::instance().now_ms(), config.hub.partitions_ahead, config.hub.retention_days);
    });

    std::string check_file;
    auto* check = app.add_subcommand("check-config", "Validate a configuration file and exit");
    bool check_connect = false;
    check->add_option("file", check_file, "The file to check (default: --config)");
    check->add_flag("--connect", check_connect, "Also try to reach every server it names");
    check->callback([&] {
        auto path = check_file.empty() ? config_path : check_file;
        auto config = load_config(path);
        std::cout << path << ": ok\n";
        if (check_connect && !app::check_connections(config)) exit_code = 1;
    });

    auto* status = app.add_subcommand("status", "One screen: daemons up or down, readings, silent devices, alerts, spool, insight");
    status->callback([&] { exit_code = app::print_status(load_config(config_path)); });

    app::add_registry_commands(app, config_path, exit_code);
    app::add_account_commands(app, config_path, exit_code);
    app::add_nats_commands(app, config_path, exit_code);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;  // --help is not an error; any bad flag is usage error 2
    } catch (const ConfigError& e) {
        std::cerr << "energyhub: " << e.what() << '\n';
        return 2;
    } catch (const pqxx::broken_connection& e) {
        std::cerr << "energyhub: cannot connect to PostgreSQL: " << e.what() << '\n';
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "energyhub: " << e.what() << '\n';
        return 1;
    }
    return exit_code;
}
