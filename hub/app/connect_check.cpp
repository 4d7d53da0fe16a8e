// `energyhub check-config --connect`: can every server the config names be reached?
#include <curl/curl.h>

#include <iostream>
#include <memory>
#include <stdexcept>

#include <mqtt/async_client.h>
#include <pqxx/pqxx>

#include "commands.hpp"
#include "mqtt/paho_settings.hpp"
#include "ollama/ollama_client.hpp"
#include "redis/device_cache.hpp"
#include "util/clock.hpp"

namespace energyhub::app {

namespace {

// "host:port" of a URL-ish string, never its user name or password.
std::string where(const std::string& url) {
    auto start = url.find("://");
    std::string rest = start == std::string::npos ? url : url.substr(start + 3);
    if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
    return rest.substr(0, rest.find_first_of("/?"));
}

// One line per server; library messages can span lines.
bool report(const char* server, const std::string& target, bool ok, std::string problem, const char* failed = "FAILED") {
    std::cout << server << ": " << (ok ? "ok" : failed) << " (" << target << ")";
    if (!ok) {
        for (auto& c : problem) c = (c == '\n' || c == '\t') ? ' ' : c;
        while (!problem.empty() && problem.back() == ' ') problem.pop_back();
        std::cout << ": " << problem;
    }
    std::cout << '\n';
    return ok;
}

bool check_postgres(const Config& c) {
    try {
        pqxx::connection conn(c.postgres.dsn);
        pqxx::read_transaction tx(conn);
        auto applied = tx.exec("SELECT count(*) FROM schema_migrations")[0][0].as<int>();
        return report("postgres", conn.hostname() ? conn.hostname() : "local socket", applied > 0,
                      "no migration applied: run 'energyhub migrate'");
    } catch (const pqxx::undefined_table&) {
        return report("postgres", "reachable", false, "no schema: run 'energyhub migrate'");
    } catch (const std::exception& e) {
        return report("postgres", "dsn from postgres.dsn", false, e.what());
    }
}

bool check_mqtt(const Config& c) {
    try {
        // A throwaway clean session: the daemons' own sessions are left alone.
        mqtt::async_client client(paho_uri(c.mqtt.uri), c.mqtt.client_id + "-check");
        auto options = mqtt::connect_options_builder().clean_session(true).connect_timeout(std::chrono::seconds(5)).finalize();
        if (!c.mqtt.username.empty()) options.set_user_name(c.mqtt.username);
        if (!c.mqtt.password.empty()) options.set_password(c.mqtt.password);
        std::string tls_error;
        if (is_tls_uri(c.mqtt.uri))
            options.set_ssl(paho_ssl_options(c.mqtt.tls, [&](const std::string& what) { tls_error = what; }));
        try {
            client.connect(options)->wait();
        } catch (const std::exception& e) {
            throw std::runtime_error(tls_error.empty() ? e.what() : tls_error);
        }
        client.disconnect()->wait();
        return report("mqtt", where(c.mqtt.uri), true, "");
    } catch (const std::exception& e) {
        return report("mqtt", where(c.mqtt.uri), false, e.what());
    }
}

bool check_redis(const Config& c) {
    if (c.redis.uri.empty()) return report("redis", "not configured", true, "");
    redis::DeviceCache cache(c.redis, SystemClock::instance());
    return report("redis", where(c.redis.uri), cache.ping(), "no answer to PING");
}

bool check_smtp(const Config& c) {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    curl_easy_setopt(curl.get(), CURLOPT_URL, c.smtp.url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    auto rc = curl_easy_perform(curl.get());
    return report("smtp", where(c.smtp.url), rc == CURLE_OK, curl_easy_strerror(rc));
}

bool check_ollama(const Config& c) {
    if (c.ollama.url.empty()) return report("ollama", "not configured (insights use rules)", true, "");
    ollama::OllamaClient client(c.ollama, nullptr);
    std::string error;
    auto models = client.list_models(&error);
    // An unreachable server may come up later (insights use rules until then): reported, not
    // fatal. A server without the model will not get it by itself.
    if (!models) {
        report("ollama", where(c.ollama.url), false, error + "; insights will use rules", "unreachable");
        return true;
    }
    return report("ollama", where(c.ollama.url) + ", model " + c.ollama.model, client.has_model(*models),
                  "the model is not there: run 'ollama pull " + c.ollama.model +
                      "' on the Ollama host; until then insights use the built-in rules");
}

}  // namespace

bool check_connections(const Config& config) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    bool ok = check_postgres(config);
    ok = check_mqtt(config) && ok;
    ok = check_redis(config) && ok;
    ok = check_smtp(config) && ok;
    ok = check_ollama(config) && ok;
    curl_global_cleanup();
    return ok;
}

}  // namespace energyhub::app
