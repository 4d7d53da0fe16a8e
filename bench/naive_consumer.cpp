// bench_naive_consumer: the baseline the hub is compared with, written the way MQTT-to-SQL
// tutorials do it. Subscribe, and for every message parse the JSON and run one INSERT (the owner
// joined from devices) in its own transaction. No spool, no batching, no cache; Paho's QoS-1
// PUBACK goes out before the row is written, so a crash loses what is in hand.
//
// Usage: bench_naive_consumer --uri URI --dsn DSN --count N [--qos Q] [--client-id ID] [--idle S]
// Exits after N messages, or after S seconds without one. Prints: naive_received=N naive_failed=F
#include <chrono>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <mqtt/async_client.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace {

std::optional<double> number(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number()) return std::nullopt;
    return it->get<double>();
}

// "energy/<device>/reading" -> "<device>"
std::string device_from_topic(const std::string& topic) {
    auto first = topic.find('/');
    auto last = topic.rfind('/');
    if (first == std::string::npos || last <= first) return {};
    return topic.substr(first + 1, last - first - 1);
}

}  // namespace

int main(int argc, char** argv) {
    std::string uri = "tcp://127.0.0.1:1883", dsn, client_id = "bench-naive", topic = "energy/+/reading";
    std::size_t count = 0;
    int qos = 1;
    double idle_s = 10;
    CLI::App app{"Naive MQTT to PostgreSQL consumer: one INSERT per message", "bench_naive_consumer"};
    app.add_option("--uri", uri)->capture_default_str();
    app.add_option("--dsn", dsn)->required();
    app.add_option("--count", count, "Stop after this many messages")->required();
    app.add_option("--qos", qos)->capture_default_str();
    app.add_option("--client-id", client_id)->capture_default_str();
    app.add_option("--topic", topic)->capture_default_str();
    app.add_option("--idle", idle_s, "Give up after this many seconds without a message")->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    try {
        pqxx::connection db(dsn);
        db.prepare("insert_reading",
                   "INSERT INTO readings (device_id, ts, user_id, power_w, energy_wh, voltage_v, current_a) "
                   "SELECT $1, to_timestamp($2::double precision / 1000), user_id, $3, $4, $5, $6 "
                   "FROM devices WHERE device_id = $1 ON CONFLICT DO NOTHING");

        mqtt::async_client client(uri, client_id);
        auto options = mqtt::connect_options_builder().clean_session(true).finalize();
        client.start_consuming();
        client.connect(options)->wait();
        client.subscribe(topic, qos)->wait();
        std::printf("subscribed\n");
        std::fflush(stdout);

        std::size_t received = 0, failed = 0;
        const auto idle = std::chrono::milliseconds(static_cast<long>(idle_s * 1000));
        while (received < count) {
            mqtt::const_message_ptr msg;
            if (!client.try_consume_message_for(&msg, idle)) break;
            if (!msg) continue;
            ++received;
            try {
                auto j = nlohmann::json::parse(msg->get_payload_str());
                auto ts = j.at("ts").get<std::int64_t>();
                pqxx::work tx(db);
                tx.exec_prepared("insert_reading", device_from_topic(msg->get_topic()), ts, number(j, "power_w"),
                                 number(j, "energy_wh"), number(j, "voltage_v"), number(j, "current_a"));
                tx.commit();
            } catch (const std::exception& e) {
                if (failed++ == 0) std::fprintf(stderr, "bench_naive_consumer: %s\n", e.what());
            }
        }
        client.disconnect()->wait();
        std::printf("naive_received=%zu naive_failed=%zu\n", received, failed);
        return received == count ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_naive_consumer: %s\n", e.what());
        return 1;
    }
}
