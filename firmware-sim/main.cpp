// firmware-sim: simulated smart plugs and meters publishing native readings to the broker, for
// demos, end-to-end tests and benchmarks. This file parses flags, wires the pieces and reports.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <unistd.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "ack_log.hpp"
#include "config/config.hpp"
#include "connection_fleet.hpp"
#include "domain/ids.hpp"
#include "fleet.hpp"
#include "log.hpp"
#include "mqtt/paho_settings.hpp"
#include "publisher.hpp"
#include "registration.hpp"
#include "secrets.hpp"
#include "util/duration.hpp"

namespace {

using namespace energyhub::sim;

constexpr int kExitOk = 0;
constexpr int kExitUnacked = 1;  // also: could not connect, register or write a file
constexpr int kExitUsage = 2;
constexpr std::uint64_t kMaxDevices = 10'000'000;
constexpr int kMaxThreads = 256;
constexpr int kDefaultMaxThreads = 4;
constexpr std::uint64_t kMaxOwnLogins = 1000;         // --secrets: one connection and thread per device
constexpr std::uint64_t kMaxConnections = 1'000'000;  // the file descriptor limit says the rest

struct Options {
    std::uint64_t devices = 10;
    double rate = 1;
    double duration_s = 0;
    std::uint64_t count = 0;
    std::string format = "native";
    std::string profile = "mixed";
    int pv_noon_hour = 12;
    std::string history;  // "7d": publish the past first
    std::string history_step = "15m";
    int qos = 1;
    int threads = 0;                // 0: min(devices, 4)
    std::uint64_t connections = 0;  // > 0: that many connections on one event loop instead of threads
    double connect_rate = 1000;
    std::string uri = "tcp://127.0.0.1:1883";
    std::string username;
    std::string password;
    std::string secrets_path;  // devices log in as themselves with the secrets registration wrote
    energyhub::TlsConfig tls;
    std::string prefix = "sim";
    std::string topic_prefix = "energy";
    std::uint64_t users = 0;  // 0: max(1, devices / 5)
    std::uint64_t seed = 1;
    bool do_register = false;
    bool register_only = false;
    std::string config_path;
    std::string acked_log;
    std::string report_json;
    std::uint64_t start_index = 0;
    int max_inflight = 1000;
    std::string log_level = "info";
};

// A signal only raises the stop level; the publishers look at it between messages.
StopRequest g_stop{0};
static_assert(StopRequest::is_always_lock_free, "the stop request is written from a signal handler");

extern "C" void on_stop_signal(int) { g_stop.fetch_add(1, std::memory_order_relaxed); }

void install_signal_handlers() {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    // A broker closing the socket must not kill the process mid-report.
    std::signal(SIGPIPE, SIG_IGN);
}

// CLI::NonNegativeNumber names the largest double in its message; this says it in words.
const CLI::Validator kNonNegative(
    [](std::string& input) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(input, value) || !std::isfinite(value) || value < 0)
            return "must be a number >= 0, not '" + input + "'";
        return {};
    },
    "NONNEGATIVE");

void add_flags(CLI::App& app, Options& o) {
    app.add_option("--devices", o.devices, "Number of simulated devices")
        ->check(CLI::Range(std::uint64_t{1}, kMaxDevices))
        ->capture_default_str();
    app.add_option("--rate", o.rate, "Readings per second per device; 0 = as fast as the in-flight window allows")
        ->check(kNonNegative)
        ->capture_default_str();
    app.add_option("--duration", o.duration_s, "Seconds to publish; 0 = until --count is reached")
        ->check(kNonNegative)
        ->capture_default_str();
    app.add_option("--count", o.count, "Readings per device, then stop; 0 = until --duration is over")
        ->capture_default_str();
    app.add_option("--format", o.format,
                   "Payload format: native (energy/<id>/reading), tasmota (tele/<id>/SENSOR), shelly "
                   "(<id>/status/switch:0, stored as <id>:0), or mixed (device i: native, tasmota, shelly by i % 3)")
        ->check(CLI::IsMember({"native", "tasmota", "shelly", "mixed"}))
        ->capture_default_str();
    app.add_option(
           "--profile", o.profile,
           "What the devices are: mixed (appliances: fridge, kettle, TV, heat pump, standby, by index) or house "
           "(a whole home's three-phase grid meter with rooftop solar that exports around midday; registered "
           "as type grid; tasmota: Total as a net register and ExportActive, shelly: a Pro 3EM's em:0 and "
           "emdata:0 on <id>/events/rpc)")
        ->check(CLI::IsMember({"mixed", "house"}))
        ->capture_default_str();
    app.add_option("--pv-noon", o.pv_noon_hour, "House profile: the UTC hour at which the solar production peaks")
        ->check(CLI::Range(0, 23))
        ->capture_default_str();
    app.add_option(
        "--history", o.history,
        "First publish the past this long (e.g. 7d, within the hub's backfill window), one reading per "
        "device every --history-step, dated in the past: native format, or the house profile as native or shelly");
    app.add_option("--history-step", o.history_step, "Interval of the --history readings")->capture_default_str();
    app.add_option("--qos", o.qos, "MQTT QoS of the readings")->check(CLI::IsMember({0, 1}))->capture_default_str();
    app.add_option("--threads", o.threads, "MQTT clients, one thread each (default: min(devices, 4))")
        ->check(CLI::Range(1, kMaxThreads));
    app.add_option("--connections", o.connections,
                   "MQTT connections driven by one event loop (tcp:// only), the devices spread over them; with "
                   "--secrets one per device, each logged in as itself (no limit of 1000)")
        ->check(CLI::Range(std::uint64_t{1}, kMaxConnections));
    app.add_option("--connect-rate", o.connect_rate,
                   "--connections: new connections per second, also when reconnecting")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--uri", o.uri, "Broker URI")->envname("ENERGYHUB_MQTT_URI")->capture_default_str();
    auto* username = app.add_option("--username", o.username, "MQTT user name");
    auto* password = app.add_option("--password", o.password, "MQTT password")->needs(username);
    app.add_option("--ca-file", o.tls.ca_file,
                   "TLS (ssl:// or mqtts:// URI): the CA that signed the broker's certificate")
        ->check(CLI::ExistingFile);
    auto* cert = app.add_option("--cert", o.tls.cert_file, "TLS: a client certificate (PEM) to log in with")
                     ->check(CLI::ExistingFile);
    app.add_option("--key", o.tls.key_file, "TLS: the client certificate's private key (PEM)")
        ->check(CLI::ExistingFile)
        ->needs(cert);
    app.add_option("--secrets", o.secrets_path,
                   "Device secrets file ('device_id<TAB>secret', mode 0600). With --register(-only): written with "
                   "the secret of every device of the fleet (new devices as registered, known ones missing from "
                   "the file get a new secret). When publishing: each device logs in as itself, client id and "
                   "username its id, password from the file (at most 1000 devices)")
        ->excludes(username)
        ->excludes(password);
    app.add_option("--device-prefix", o.prefix, "Device ids are <prefix>-<5-digit index>")->capture_default_str();
    app.add_option("--topic-prefix", o.topic_prefix, "Readings go to <topic-prefix>/<device_id>/reading")
        ->capture_default_str();
    app.add_option("--users", o.users, "Owners: device i belongs to <prefix>-user-<i % users> (default: devices / 5)")
        ->check(CLI::Range(std::uint64_t{1}, kMaxDevices));
    app.add_option("--seed", o.seed, "Seed of the power models; the same seed gives the same readings")
        ->capture_default_str();
    app.add_flag("--register", o.do_register, "Add missing users and devices to the registry before publishing");
    app.add_flag("--register-only", o.register_only, "Add missing users and devices to the registry, then exit");
    app.add_option("--config", o.config_path,
                   "energyhub YAML file for --register (default: $ENERGYHUB_CONFIG or /etc/energyhub/energyhub.yaml)");
    app.add_option("--acked-log", o.acked_log,
                   "Write 'device_id<TAB>ts_ms' for every acknowledged reading to FILE (native readings are stored "
                   "with exactly this ts; Shelly ones are dated by the hub, Tasmota ones to the second)");
    app.add_option("--report-json", o.report_json, "Write the final report as JSON to FILE");
    app.add_option("--start-index", o.start_index, "Index of the first device")->capture_default_str();
    app.add_option("--max-inflight", o.max_inflight, "Unconfirmed messages per client before publishing waits")
        ->check(CLI::Range(1, 65535))
        ->capture_default_str();
    app.add_option("--log-level", o.log_level, "Log level (logs go to stderr)")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
        ->capture_default_str();
}

// Checks that need more than one flag. Returns an error message, or empty.
std::string validate(Options& o) {
    if (o.register_only)
        o.do_register = true;
    else if (o.duration_s <= 0 && o.count == 0 && o.history.empty())
        return "set --duration, --count or --history";
    if (!o.history.empty()) {
        const auto history = energyhub::parse_duration(o.history), step = energyhub::parse_duration(o.history_step);
        if (!history || history->count() <= 0) return "--history must be a duration such as 7d";
        if (!step || step->count() < 1000) return "--history-step must be a duration of 1s or more";
        // Only these payloads carry a time the hub stores (Tasmota's and Shelly's status are dated
        // by the hub on arrival).
        const bool dated = o.format == "native" || (o.profile == "house" && o.format == "shelly");
        if (!dated) return "--history needs --format native, or --profile house with --format native or shelly";
    }
    if (o.connections > 0 && !o.register_only) {
        if (o.threads > 0) return "--connections and --threads choose different engines: give one";
        if (!ConnectionFleet::serves(o.uri)) return "--connections needs a tcp:// or mqtt:// URI";
        if (!o.history.empty()) return "--history publishes through --threads clients, not --connections";
        if (o.connections > o.devices) return "--connections: more connections than --devices";
        if (!o.secrets_path.empty() && o.connections != o.devices)
            return "--secrets with --connections: one connection per device (--connections " +
                   std::to_string(o.devices) + ")";
    }
    if (!o.secrets_path.empty() && !o.register_only && o.connections == 0 && o.devices > kMaxOwnLogins)
        return "--secrets: at most " + std::to_string(kMaxOwnLogins) +
               " devices log in as themselves with a thread each; --connections takes more";
    if (o.users == 0) o.users = default_user_count(o.devices);
    if (o.topic_prefix.empty() || o.topic_prefix.find_first_of("+#") != std::string::npos)
        return "--topic-prefix must be a non-empty topic without '+' or '#'";
    if (o.threads == 0) o.threads = static_cast<int>(std::min<std::uint64_t>(o.devices, kDefaultMaxThreads));
    o.threads = static_cast<int>(std::min<std::uint64_t>(static_cast<std::uint64_t>(o.threads), o.devices));
    // The longest ids are the ones of the last device and the last user.
    const auto last = o.start_index + o.devices - 1;
    if (const auto id = device_id(o.prefix, last); !energyhub::is_valid_id(id))
        return "--device-prefix: device id '" + id + "' must match [A-Za-z0-9_.-]{1,64}";
    if (const auto id = user_id(o.prefix, o.users - 1, o.users); !energyhub::is_valid_id(id))
        return "--device-prefix: user id '" + id + "' must match [A-Za-z0-9_.-]{1,64}";
    return {};
}

// libpq spreads its messages over several lines; an error here is reported on one.
std::string one_line(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == '\n' || c == '\t' || c == '\r') {
            if (!out.empty() && out.back() != ' ') out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

void setup_logging(const std::string& level) {
    auto log = spdlog::stderr_color_mt("sim");
    log->set_level(spdlog::level::from_str(level));
    spdlog::set_default_logger(log);
}

struct Report {
    PublishStats stats;
    double elapsed_s = 0;
    double rate() const { return elapsed_s > 0 ? static_cast<double>(stats.acked) / elapsed_s : 0.0; }
};

void print_report(const Report& r) {
    std::printf("sent=%llu acked=%llu failed=%llu elapsed_s=%.3f rate_msgs_s=%.1f\n",
                static_cast<unsigned long long>(r.stats.sent), static_cast<unsigned long long>(r.stats.acked),
                static_cast<unsigned long long>(r.stats.failed), r.elapsed_s, r.rate());
    std::fflush(stdout);
}

bool write_report_json(const Report& r, const std::string& path) {
    const nlohmann::json j = {{"sent", r.stats.sent},
                              {"acked", r.stats.acked},
                              {"failed", r.stats.failed},
                              {"elapsed_s", r.elapsed_s},
                              {"rate_msgs_s", r.rate()}};
    std::ofstream out(path, std::ios::trunc);
    out << j.dump() << '\n';
    out.close();
    return static_cast<bool>(out);
}

// Splits the fleet into `parts` contiguous slices whose sizes differ by at most one.
std::vector<std::vector<DeviceSpec>> split(std::vector<DeviceSpec> fleet, std::size_t parts) {
    std::vector<std::vector<DeviceSpec>> slices(parts);
    const std::size_t n = fleet.size();
    for (std::size_t t = 0; t < parts; ++t) {
        const auto begin = t * n / parts, end = (t + 1) * n / parts;
        slices[t].assign(std::make_move_iterator(fleet.begin() + static_cast<std::ptrdiff_t>(begin)),
                         std::make_move_iterator(fleet.begin() + static_cast<std::ptrdiff_t>(end)));
    }
    return slices;
}

// A device's secret from the --secrets file; throws naming the device when it has none.
const std::string& secret_of(const DeviceSecrets& secrets, const std::string& device_id, const std::string& path) {
    auto it = secrets.find(device_id);
    if (it == secrets.end())
        throw std::runtime_error("no secret for device " + device_id + " in '" + path +
                                 "' (register it with --register-only --secrets)");
    return it->second;
}

int run_connections(const Options& o, const PublishOptions& publish, std::vector<DeviceSpec> fleet,
                    const DeviceSecrets& secrets, AckLog* acked_log);
int finish(const Options& o, const Report& report);

int run(const Options& o) {
    auto fleet = make_fleet(o.prefix, o.start_index, o.devices, o.users,
                            o.profile == "house" ? std::optional<Profile>(Profile::house) : std::nullopt);

    DeviceSecrets secrets;
    if (!o.secrets_path.empty()) secrets = read_secrets(o.secrets_path);
    if (o.do_register) {
        const auto path = o.config_path.empty() ? energyhub::default_config_path() : o.config_path;
        const auto config = energyhub::load_config(path);
        register_fleet(config, fleet, o.secrets_path.empty() ? nullptr : &secrets);
        if (!o.secrets_path.empty()) write_secrets(o.secrets_path, secrets);
        if (o.register_only) {
            std::cout << "registered " << fleet.size() << " devices\n";
            return 0;
        }
    }

    std::unique_ptr<AckLog> acked_log;
    if (!o.acked_log.empty()) acked_log = std::make_unique<AckLog>(o.acked_log);

    PublishOptions publish;
    publish.uri = o.uri;
    publish.username = o.username;
    publish.password = o.password;
    publish.tls = o.tls;
    publish.feed.topic_prefix = o.topic_prefix;
    publish.feed.format = o.format;
    publish.qos = o.qos;
    publish.rate = o.rate;
    publish.duration_s = o.duration_s;
    publish.count = o.count;
    publish.feed.seed = o.seed;
    publish.feed.pv_noon_hour = o.pv_noon_hour;
    if (!o.history.empty()) {
        publish.history_ms = energyhub::parse_duration(o.history)->count();
        publish.history_step_ms = energyhub::parse_duration(o.history_step)->count();
    }
    publish.max_inflight = o.max_inflight;
    publish.connect_rate = o.connect_rate;
    install_signal_handlers();
    if (o.connections > 0) return run_connections(o, publish, std::move(fleet), secrets, acked_log.get());

    std::vector<std::unique_ptr<Publisher>> publishers;
    if (!o.secrets_path.empty()) {
        // As real devices do: each its own connection, logged in with its id and secret.
        for (auto& device : fleet) {
            PublishOptions own = publish;
            own.username = device.device_id;
            own.password = secret_of(secrets, device.device_id, o.secrets_path);
            auto id = device.device_id;
            publishers.push_back(std::make_unique<Publisher>(id, own, std::vector<DeviceSpec>{std::move(device)},
                                                             acked_log.get(), g_stop));
        }
    } else {
        const auto pid = std::to_string(::getpid());
        auto slices = split(std::move(fleet), static_cast<std::size_t>(o.threads));
        for (std::size_t t = 0; t < slices.size(); ++t) {
            publishers.push_back(std::make_unique<Publisher>("firmware-sim-" + pid + "-" + std::to_string(t), publish,
                                                             std::move(slices[t]), acked_log.get(), g_stop));
        }
    }
    for (auto& p : publishers) p->start_connect();
    for (auto& p : publishers) p->finish_connect();

    logger()->info("publishing {} devices ({}..{}) over {} clients to {}, qos {}, {}", o.devices,
                   device_id(o.prefix, o.start_index), device_id(o.prefix, o.start_index + o.devices - 1),
                   publishers.size(), o.uri, o.qos,
                   o.rate > 0 ? fmt::format("{} readings/s per device", o.rate) : std::string("unpaced"));

    const auto start = std::chrono::steady_clock::now();
    std::vector<PublishStats> results(publishers.size());
    {
        std::vector<std::jthread> threads;
        for (std::size_t t = 0; t < publishers.size(); ++t)
            threads.emplace_back([&, t] { results[t] = publishers[t]->run(start); });
    }
    Report report;
    report.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (const auto& r : results) report.stats += r;
    return finish(o, report);
}

// --connections: one event loop over many connections (connection_fleet.hpp).
int run_connections(const Options& o, const PublishOptions& publish, std::vector<DeviceSpec> fleet,
                    const DeviceSecrets& secrets, AckLog* acked_log) {
    std::vector<wire::Login> logins;
    if (!o.secrets_path.empty()) {
        for (const auto& device : fleet) {
            logins.push_back(
                {device.device_id, device.device_id, secret_of(secrets, device.device_id, o.secrets_path)});
        }
    } else {
        const auto pid = std::to_string(::getpid());
        for (std::uint64_t i = 0; i < o.connections; ++i)
            logins.push_back({"firmware-sim-" + pid + "-" + std::to_string(i), o.username, o.password});
    }
    const auto devices = fleet.size();
    ConnectionFleet connections(publish, std::move(logins), split(std::move(fleet), o.connections), acked_log, g_stop);
    connections.connect();
    logger()->info("publishing {} devices over {} connections to {}, qos {}, {}", devices, o.connections, o.uri, o.qos,
                   o.rate > 0 ? fmt::format("{} readings/s per device", o.rate) : std::string("unpaced"));
    const auto start = std::chrono::steady_clock::now();
    Report report;
    report.stats = connections.run();
    report.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return finish(o, report);
}

int finish(const Options& o, const Report& report) {
    if (g_stop.load() > 0) logger()->info("stopped by signal");
    print_report(report);
    if (!o.report_json.empty() && !write_report_json(report, o.report_json)) {
        std::fprintf(stderr, "firmware-sim: cannot write report '%s'\n", o.report_json.c_str());
        return kExitUnacked;
    }
    const bool all_acked = report.stats.acked == report.stats.sent;
    return o.qos == 0 || all_acked ? kExitOk : kExitUnacked;
}

}  // namespace

int main(int argc, char** argv) {
    energyhub::quiet_paho_trace();
    CLI::App app{
        "Simulated smart plugs and meters publishing energy readings over MQTT (native, Tasmota or Shelly).\n"
        "Prints 'sent=N acked=N failed=N elapsed_s=X rate_msgs_s=Y' at the end; exits 0 when\n"
        "every reading was acknowledged (always at --qos 0), 1 otherwise, 2 on bad flags.",
        "firmware-sim"};
    Options options;
    add_flags(app, options);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "firmware-sim: %s (see --help)\n", e.what());
        return kExitUsage;
    }
    if (const auto problem = validate(options); !problem.empty()) {
        std::fprintf(stderr, "firmware-sim: %s (see --help)\n", problem.c_str());
        return kExitUsage;
    }
    setup_logging(options.log_level);

    try {
        return run(options);
    } catch (const std::exception& e) {
        // Config, database, broker and file errors all carry their own message.
        std::fprintf(stderr, "firmware-sim: %s\n", one_line(e.what()).c_str());
    }
    return kExitUnacked;
}
