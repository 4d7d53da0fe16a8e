// `energyhub status`: one screen for a person at a terminal. Each daemon's health endpoint, what
// arrived in the last minute, silent devices, open alerts, the spool's backlog and the latest
// insight. Exit 1 when a daemon whose listener is configured does not answer UP, or PostgreSQL
// cannot be reached.
#include <curl/curl.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "commands.hpp"
#include "util/listen_address.hpp"
#include "util/timestamp.hpp"

namespace energyhub::app {

namespace {

constexpr long kHealthTimeoutMs = 2000;
constexpr std::size_t kSummaryChars = 100;

struct CurlDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

extern "C" std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

struct Answer {
    long status = 0;  // 0: no answer
    std::string body;
    std::string error;
};

// The daemons' listeners as this machine reaches them: the token, and for HTTPS whom to trust. A
// listener asked on loopback is this machine's own: its certificate names the host it serves
// others under, not 127.0.0.1, so it is not checked there.
struct Listener {
    std::string token;
    const TlsConfig* tls = nullptr;  // https when it has a certificate
};

Answer get(const std::string& url, const Listener& to) {
    const std::string& token = to.token;
    Answer a;
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) return {0, "", "cannot create a curl handle"};
    curl_slist* headers = nullptr;
    const std::string auth = "Authorization: Bearer " + token;
    if (!token.empty()) headers = curl_slist_append(headers, auth.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, kHealthTimeoutMs);
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &a.body);
    if (url.rfind("https://", 0) == 0) {
        const bool loopback =
            url.find("//127.0.0.1:") != std::string::npos || url.find("//[::1]:") != std::string::npos;
        curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYPEER, loopback ? 0L : 1L);
        curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYHOST, loopback ? 0L : 2L);
        if (to.tls && !to.tls->ca_file.empty()) curl_easy_setopt(curl.get(), CURLOPT_CAINFO, to.tls->ca_file.c_str());
    }
    const auto rc = curl_easy_perform(curl.get());
    if (rc == CURLE_OK) curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &a.status);
    else a.error = curl_easy_strerror(rc);
    curl_slist_free_all(headers);
    return a;
}

// "http://host:port" of a listen address; the wildcard addresses are asked on loopback.
std::string base_url(const std::string& listen, const Listener& to) {
    auto [host, port] = parse_listen_address(listen);
    if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
    if (host == "::") host = "::1";
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    return std::string(to.tls && !to.tls->cert_file.empty() ? "https://" : "http://") + host + ":" +
           std::to_string(port);
}

// One daemon's line; true when it is UP (or not configured).
bool daemon_line(const char* name, const std::string& listen, const Listener& to, std::string* metrics) {
    if (listen.empty()) {
        std::printf("%-9s %-5s no http listener configured\n", name, "-");
        return true;
    }
    const auto url = base_url(listen, to);
    const auto health = get(url + "/health", to);
    if (health.status == 0) {
        std::printf("%-9s %-5s %s/health: %s\n", name, "DOWN", url.c_str(), health.error.c_str());
        return false;
    }
    std::string parts;
    bool up = health.status == 200;
    try {
        const auto j = nlohmann::json::parse(health.body);
        const nlohmann::json components = j.contains("components") ? j["components"] : nlohmann::json::object();
        for (const auto& [component, state] : components.items())
            parts += (parts.empty() ? "" : ", ") + component + " " + state.value("status", "?");
    } catch (const std::exception&) {
        parts = "unreadable health answer";
        up = false;
    }
    std::printf("%-9s %-5s %s%s%s\n", name, up ? "UP" : "DOWN", url.c_str(), parts.empty() ? "" : "  ", parts.c_str());
    if (metrics) *metrics = get(url + "/metrics", to).body;
    return up;
}

// A sample's value from Prometheus text, or -1.
double sample(const std::string& text, const std::string& name) {
    const auto at = text.find("\n" + name + " ");
    if (at == std::string::npos) return -1;
    return std::atof(text.c_str() + at + name.size() + 2);
}

std::string shorten(std::string s) {
    for (auto& c : s) c = (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    if (s.size() > kSummaryChars) s = s.substr(0, kSummaryChars - 3) + "...";
    return s;
}

bool database_lines(const Config& c) {
    try {
        pqxx::connection conn(c.postgres.dsn);
        pqxx::read_transaction tx(conn);
        const auto r = tx.exec(
            "SELECT (SELECT count(*) FROM readings WHERE received_at > now() - interval '1 minute'),"
            "       (SELECT count(DISTINCT device_id) FROM readings WHERE received_at > now() - interval '1 minute'),"
            "       (SELECT count(*) FROM devices)")[0];
        // Silent: nothing for as long as the default device_offline rule waits (10 minutes without one).
        long long silent_after_s = 600;
        if (const auto& rule = c.thresholds.defaults.device_offline; rule && *rule)
            silent_after_s = static_cast<long long>((*rule)->after.count() / 1000);
        const auto silent = tx.exec_params(
            "SELECT count(*) FROM devices d WHERE NOT EXISTS (SELECT 1 FROM readings r WHERE "
            "split_part(r.device_id, ':', 1) = d.device_id AND r.ts > now() - $1 * interval '1 second')",
            silent_after_s)[0][0].as<long long>();
        const auto reporting = r[1].as<long long>();
        std::printf("%-9s %lld in the last minute from %lld device%s; %lld of %lld registered devices silent for %llds\n",
                    "readings", r[0].as<long long>(), reporting, reporting == 1 ? "" : "s", silent, r[2].as<long long>(),
                    silent_after_s);
        const auto alerts = tx.exec(
            "SELECT device_id, rule, (extract(epoch FROM since) * 1000)::bigint FROM ("
            "  SELECT DISTINCT ON (device_id, rule) device_id, rule, state, since FROM alerts"
            "  ORDER BY device_id, rule, ts DESC, state) latest WHERE state = 'firing' ORDER BY since DESC");
        std::printf("%-9s %zu open", "alerts", static_cast<std::size_t>(alerts.size()));
        for (std::size_t i = 0; i < alerts.size() && i < 3; ++i)
            std::printf("%s %s %s since %s", i ? "," : ":", alerts[i][0].c_str(), alerts[i][1].c_str(),
                        format_iso8601(alerts[i][2].as<std::int64_t>()).c_str());
        std::printf("%s\n", alerts.size() > 3 ? ", ..." : "");
        const auto insight = tx.exec(
            "SELECT id, user_id, (extract(epoch FROM created_at) * 1000)::bigint, source, summary FROM insights "
            "ORDER BY created_at DESC, id DESC LIMIT 1");
        if (insight.empty()) std::printf("%-9s none yet\n", "insight");
        else
            std::printf("%-9s #%lld for %s at %s (%s): %s\n", "insight", insight[0][0].as<long long>(), insight[0][1].c_str(),
                        format_iso8601(insight[0][2].as<std::int64_t>()).c_str(), insight[0][3].c_str(),
                        shorten(insight[0][4].as<std::string>()).c_str());
        return true;
    } catch (const std::exception& e) {
        std::printf("%-9s %-5s %s\n", "postgres", "DOWN", shorten(e.what()).c_str());
        return false;
    }
}

}  // namespace

int print_status(const Config& c) {
    std::string hub_metrics;
    const Listener to{c.http.token, &c.http.tls};
    bool ok = daemon_line("hub", c.http.listen, to, &hub_metrics);
    ok = daemon_line("notifier", c.http.notifier_listen, to, nullptr) && ok;
    ok = daemon_line("insights", c.http.insights_listen, to, nullptr) && ok;
    if (const double backlog = sample(hub_metrics, "energyhub_spool_bytes"); backlog >= 0)
        std::printf("%-9s %.0f bytes waiting to be stored\n", "spool", backlog);
    ok = database_lines(c) && ok;
    return ok ? 0 : 1;
}

}  // namespace energyhub::app
