// `energyhub check-config --connect`: can every server the config names be reached? Each adapter
// probes its own server through the code the daemons use; this file only reports.
#include <iostream>

#include "commands.hpp"
#include "mqtt/mqtt_client.hpp"
#include "ollama/ollama_client.hpp"
#include "postgres/migrator.hpp"
#include "redis/device_cache.hpp"
#include "smtp/mailer.hpp"
#include "util/clock.hpp"
#include "util/redact.hpp"

namespace energyhub::app {

namespace {

// One line per server; library messages can span lines.
bool report(const char* server, const Probe& probe, const char* failed = "FAILED") {
    std::cout << server << ": " << (probe.ok ? "ok" : failed) << " (" << probe.target << ")";
    if (!probe.ok) {
        std::string problem = probe.problem;
        for (auto& c : problem) c = (c == '\n' || c == '\t') ? ' ' : c;
        while (!problem.empty() && problem.back() == ' ') problem.pop_back();
        std::cout << ": " << problem;
    }
    std::cout << '\n';
    return probe.ok;
}

bool check_redis(const Config& c) {
    if (c.redis.uri.empty()) return report("redis", {true, "not configured", ""});
    redis::DeviceCache cache(c.redis, SystemClock::instance());
    return report("redis", {cache.ping(), url_host(c.redis.uri), "no answer to PING"});
}

bool check_ollama(const Config& c) {
    if (c.ollama.url.empty()) return report("ollama", {true, "not configured (insights use rules)", ""});
    ollama::OllamaClient client(c.ollama, nullptr);
    std::string error;
    auto models = client.list_models(&error);
    // An unreachable server may come up later (insights use rules until then): reported, not
    // fatal. A server without the model will not get it by itself.
    if (!models) {
        report("ollama", {false, url_host(c.ollama.url), error + "; insights will use rules"}, "unreachable");
        return true;
    }
    return report("ollama", {client.has_model(*models), url_host(c.ollama.url) + ", model " + c.ollama.model,
                             "the model is not there: run 'ollama pull " + c.ollama.model +
                                 "' on the Ollama host; until then insights use the built-in rules"});
}

}  // namespace

bool check_connections(const Config& config) {
    bool ok = report("postgres", postgres::probe_schema(config.postgres.dsn));
    ok = report("mqtt", MqttClient::probe(config.mqtt)) && ok;
    ok = check_redis(config) && ok;
    ok = report("smtp", SmtpMailer(config.smtp).probe()) && ok;
    ok = check_ollama(config) && ok;
    return ok;
}

}  // namespace energyhub::app
