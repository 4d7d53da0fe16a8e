// bench_probe: the two small MQTT clients of bench/run.sh.
//
//   bench_probe count --uri URI --topic FILTER --qos Q --count N
//       A no-op subscriber: the broker's delivery limit. Prints "subscribed", then, once N
//       messages arrived (or --idle seconds passed without one), the time from the first to the
//       last message and its CPU time.
//
//   bench_probe alerts --uri URI --devices ID,ID,... --rate R --duration S [--watts W] [--topic-prefix P]
//       Publishes native readings for the given devices, alternating above and below W (each one
//       a power_above transition when the rule has `for: 0s`), with "ts" = the publish time in
//       ms, and subscribes to the alert topic. For every alert event whose "ts" is one of its
//       own readings, the latency is the receive time minus that ts. Prints p50/p99/max.
//
//   bench_probe wait-metric --url URL --name NAME --at-least N [--stall S]
//       Polls a Prometheus endpoint every 10 ms over one kept-alive connection until the sample
//       NAME reaches N (exit 0) or has not changed for S seconds (exit 1); prints "value=V".
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <curl/curl.h>
#include <mqtt/async_client.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "mqtt/paho_settings.hpp"
#include "process_cpu.hpp"
#include "util/clock.hpp"
#include "util/timestamp.hpp"

namespace {

using energyhub::bench::process_cpu_ms;
const energyhub::Clock& wall = energyhub::SystemClock::instance();

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

struct Common {
    std::string uri = "tcp://127.0.0.1:1883";
    std::string client_id;
};

int run_count(const Common& c, const std::string& topic, int qos, std::uint64_t count, double idle_s, int receive_max) {
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::int64_t> first_ns{0}, last_ns{0};
    auto now_ns = [] {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count();
    };
    // With --receive-max: MQTT 5 and that Receive Maximum, as the hub connects.
    mqtt::async_client client(c.uri, c.client_id.empty() ? "bench-probe-count" : c.client_id,
                              mqtt::create_options(receive_max > 0 ? MQTTVERSION_5 : MQTTVERSION_DEFAULT));
    client.set_message_callback([&](mqtt::const_message_ptr) {
        auto t = now_ns();
        if (received.fetch_add(1) == 0) first_ns = t;
        last_ns = t;
    });
    auto options = receive_max > 0 ? mqtt::connect_options_builder()
                                         .mqtt_version(MQTTVERSION_5)
                                         .clean_start(true)
                                         .properties({mqtt::property(mqtt::property::RECEIVE_MAXIMUM, receive_max)})
                                         .finalize()
                                   : mqtt::connect_options_builder().clean_session(true).finalize();
    client.connect(options)->wait();
    client.subscribe(topic, qos)->wait();
    std::printf("subscribed\n");
    std::fflush(stdout);
    const double cpu0 = process_cpu_ms();
    std::uint64_t seen = 0;
    auto quiet_since = std::chrono::steady_clock::now();
    while (received.load() < count) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        auto n = received.load();
        if (n != seen) {
            seen = n;
            quiet_since = std::chrono::steady_clock::now();
        } else if (std::chrono::steady_clock::now() - quiet_since > std::chrono::duration<double>(idle_s)) {
            break;
        }
    }
    const double cpu = process_cpu_ms() - cpu0;
    client.disconnect()->wait();
    const auto n = received.load();
    const double seconds = static_cast<double>(last_ns - first_ns) / 1e9;
    std::printf("received=%llu seconds=%.3f rate_msgs_s=%.0f cpu_ms_per_1000=%.2f\n",
                static_cast<unsigned long long>(n), seconds, seconds > 0 ? static_cast<double>(n) / seconds : 0.0,
                n ? cpu * 1000.0 / static_cast<double>(n) : 0.0);
    return n >= count ? 0 : 1;
}

int run_alerts(const Common& c, const std::string& devices_csv, double rate, double duration_s, double watts,
               const std::string& topic_prefix, const std::string& alert_filter, const std::string& samples_path) {
    std::vector<std::string> devices;
    std::stringstream in(devices_csv);
    for (std::string d; std::getline(in, d, ',');)
        if (!d.empty()) devices.push_back(d);
    if (devices.empty() || rate <= 0) {
        std::fprintf(stderr, "bench_probe: --devices and --rate > 0 are required\n");
        return 2;
    }

    std::mutex mutex;
    std::vector<double> latencies;
    std::vector<std::pair<std::int64_t, std::int64_t>> samples;  // (reading ts, latency), for --samples
    std::uint64_t foreign = 0;
    mqtt::async_client client(c.uri, c.client_id.empty() ? "bench-probe-alerts" : c.client_id);
    client.set_message_callback([&](mqtt::const_message_ptr msg) {
        const auto now = wall.now_ms();
        try {
            auto j = nlohmann::json::parse(msg->get_payload_str(), nullptr, false);
            if (!j.is_object() || !j.contains("ts") || !j["ts"].is_string()) return;
            const auto device = j.value("device_id", std::string());
            if (std::find(devices.begin(), devices.end(), device) == devices.end()) {
                std::lock_guard lock(mutex);
                ++foreign;
                return;
            }
            auto ts = energyhub::parse_iso8601_ms(j["ts"].get<std::string>());
            if (!ts) return;
            std::lock_guard lock(mutex);
            latencies.push_back(static_cast<double>(now - *ts));
            samples.emplace_back(*ts, now - *ts);
        } catch (...) {}
    });
    auto options = mqtt::connect_options_builder().clean_session(true).finalize();
    client.connect(options)->wait();
    client.subscribe(alert_filter, 1)->wait();

    // Each device alternates high, low, high...: with `for: 0s` every reading is a transition.
    std::vector<bool> high(devices.size(), false);
    std::vector<std::int64_t> last_ts(devices.size(), 0);
    const auto start = std::chrono::steady_clock::now();
    const auto interval = std::chrono::duration<double>(1.0 / rate);
    std::uint64_t sent = 0;
    for (std::uint64_t m = 0;; ++m) {
        const auto due =
            start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval * static_cast<double>(m));
        if (due - start > std::chrono::duration<double>(duration_s)) break;
        std::this_thread::sleep_until(due);
        const auto i = static_cast<std::size_t>(m % devices.size());
        const auto ts = std::max(wall.now_ms(), last_ts[i] + 1);
        last_ts[i] = ts;
        high[i] = !high[i];
        char payload[128];
        const int len = std::snprintf(payload, sizeof payload, "{\"ts\":%lld,\"power_w\":%.1f}",
                                      static_cast<long long>(ts), high[i] ? watts * 2 : 0.0);
        client.publish(topic_prefix + "/" + devices[i] + "/reading", payload, static_cast<std::size_t>(len), 1, false);
        ++sent;
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));  // the last alerts
    client.disconnect()->wait();
    std::lock_guard lock(mutex);
    if (!samples_path.empty()) {
        std::ofstream out(samples_path, std::ios::trunc);
        for (const auto& [ts, ms] : samples) out << ts << '\t' << ms << '\n';
    }
    std::printf("alert_probe_sent=%llu alerts=%zu foreign_alerts=%llu p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n",
                static_cast<unsigned long long>(sent), latencies.size(), static_cast<unsigned long long>(foreign),
                percentile(latencies, 0.5), percentile(latencies, 0.99), percentile(latencies, 1.0));
    return latencies.empty() ? 1 : 0;
}

// Deletes the retained messages under a filter (the hub's retained state of a bench run), so the
// shared broker does not keep them: an empty retained publish per topic found. The broker hands a
// new subscriber only so many retained messages at once, so rounds go on until one finds none.
int run_clear(const Common& c, const std::string& filter) {
    std::mutex mutex;
    std::vector<std::string> topics;
    std::atomic<std::int64_t> last_ms{wall.now_ms()};
    mqtt::async_client client(c.uri, c.client_id.empty() ? "bench-probe-clear" : c.client_id);
    client.set_message_callback([&](mqtt::const_message_ptr msg) {
        last_ms = wall.now_ms();
        if (!msg->is_retained() || msg->get_payload().empty()) return;
        std::lock_guard lock(mutex);
        topics.push_back(msg->get_topic());
    });
    client.connect(mqtt::connect_options_builder().clean_session(true).finalize())->wait();
    std::size_t cleared = 0;
    for (int round = 0; round < 100; ++round) {
        last_ms = wall.now_ms();
        client.subscribe(filter, 0)->wait();
        while (wall.now_ms() - last_ms.load() < 1500) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        client.unsubscribe(filter)->wait();
        std::vector<std::string> found;
        {
            std::lock_guard lock(mutex);
            found.swap(topics);
        }
        if (found.empty()) break;
        std::deque<mqtt::delivery_token_ptr> pending;  // Paho queues at most 100 beyond those in flight
        for (const auto& t : found) {
            pending.push_back(client.publish(t, "", 0, 1, true));
            if (pending.size() >= 50) {
                pending.front()->wait();
                pending.pop_front();
            }
        }
        for (auto& token : pending) token->wait();
        cleared += found.size();
    }
    client.disconnect()->wait();
    std::printf("cleared=%zu\n", cleared);
    return 0;
}

// The value of the unlabelled sample NAME in a Prometheus text page, or nullopt.
std::optional<double> sample_value(const std::string& page, const std::string& name) {
    for (std::size_t at = 0; at < page.size();) {
        const auto end = std::min(page.find('\n', at), page.size());
        if (page.compare(at, name.size(), name) == 0 && at + name.size() < end && page[at + name.size()] == ' ')
            return std::strtod(page.c_str() + at + name.size() + 1, nullptr);
        at = end + 1;
    }
    return std::nullopt;
}

// One process on one connection: forking curl, awk and sed forty times a second to ask the same
// took about a tenth of this 2-core machine from the hub being measured.
int run_wait_metric(const std::string& url, const std::string& name, double at_least, double stall_s) {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) throw std::runtime_error("curl_easy_init failed");
    std::string page;
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &page);
    curl_easy_setopt(
        curl.get(), CURLOPT_WRITEFUNCTION, +[](char* data, std::size_t size, std::size_t n, void* out) {
            static_cast<std::string*>(out)->append(data, size * n);
            return size * n;
        });
    std::optional<double> last;
    auto changed = std::chrono::steady_clock::now();
    for (;;) {
        page.clear();
        std::optional<double> value;
        if (curl_easy_perform(curl.get()) == CURLE_OK) value = sample_value(page, name);
        const auto now = std::chrono::steady_clock::now();
        if (value && *value >= at_least) {
            std::printf("value=%.0f\n", *value);
            return 0;
        }
        if (value != last) {
            last = value;
            changed = now;
        } else if (now - changed > std::chrono::duration<double>(stall_s)) {
            std::printf("value=%.0f\n", last.value_or(0));
            return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

}  // namespace

int main(int argc, char** argv) {
    energyhub::quiet_paho_trace();  // as the hub: the limit is of receiving, not of Paho's trace
    CLI::App app{"MQTT probes for bench/run.sh: a no-op subscriber and an alert latency probe", "bench_probe"};
    Common common;
    app.add_option("--uri", common.uri)->capture_default_str();
    app.add_option("--client-id", common.client_id);
    app.require_subcommand(1);

    auto* count_cmd = app.add_subcommand("count", "No-op subscriber: time until N messages arrived");
    std::string topic = "energy/+/reading";
    int qos = 1;
    std::uint64_t count = 0;
    double idle_s = 10;
    count_cmd->add_option("--topic", topic)->capture_default_str();
    count_cmd->add_option("--qos", qos)->capture_default_str();
    count_cmd->add_option("--count", count)->required();
    count_cmd->add_option("--idle", idle_s)->capture_default_str();
    int receive_max = 0;
    count_cmd->add_option("--receive-max", receive_max, "Connect with MQTT 5 and this Receive Maximum (0: MQTT 3.1.1)");

    auto* alerts_cmd = app.add_subcommand("alerts", "Publish transitions, measure publish to alert latency");
    std::string devices, alert_filter = "alerts/#", topic_prefix = "energy";
    double rate = 20, duration_s = 20, watts = 1000;
    alerts_cmd->add_option("--devices", devices, "Comma-separated registered device ids")->required();
    alerts_cmd->add_option("--rate", rate, "Probe readings per second, all devices together")->capture_default_str();
    alerts_cmd->add_option("--duration", duration_s)->capture_default_str();
    alerts_cmd->add_option("--watts", watts, "The power_above threshold of the probe devices")->capture_default_str();
    alerts_cmd->add_option("--alert-filter", alert_filter)->capture_default_str();
    std::string samples;
    alerts_cmd->add_option("--samples", samples, "Write each alert's reading ts and latency (ms) to FILE");
    alerts_cmd->add_option("--topic-prefix", topic_prefix, "Readings go to <prefix>/<device>/reading")
        ->capture_default_str();
    auto* clear_cmd = app.add_subcommand("clear-retained", "Delete the retained messages under a filter");
    std::string clear_filter;
    clear_cmd->add_option("--filter", clear_filter)->required();
    auto* wait_cmd = app.add_subcommand("wait-metric", "Poll a Prometheus endpoint until a sample reaches a value");
    std::string url, metric_name;
    double at_least = 0, stall_s = 10;
    wait_cmd->add_option("--url", url)->required();
    wait_cmd->add_option("--name", metric_name)->required();
    wait_cmd->add_option("--at-least", at_least)->required();
    wait_cmd->add_option("--stall", stall_s, "Give up after this many seconds without a change")->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    try {
        if (*clear_cmd) return run_clear(common, clear_filter);
        if (*wait_cmd) return run_wait_metric(url, metric_name, at_least, stall_s);
        if (*count_cmd) return run_count(common, topic, qos, count, idle_s, receive_max);
        return run_alerts(common, devices, rate, duration_s, watts, topic_prefix, alert_filter, samples);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_probe: %s\n", e.what());
        return 1;
    }
}
