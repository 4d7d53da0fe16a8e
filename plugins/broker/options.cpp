#include "broker/options.hpp"

#include <charconv>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <string_view>

#include "util/duration.hpp"

namespace energyhub::broker {

namespace {

[[noreturn]] void bad(const std::string& key, const std::string& problem) {
    throw OptionError("plugin_opt_" + key + ": " + problem);
}

bool parse_bool(const std::string& key, const std::string& value) {
    if (value == "true") return true;
    if (value == "false") return false;
    bad(key, "'" + value + "' is not true or false");
}

Millis parse_interval(const std::string& key, const std::string& value, bool zero_allowed) {
    auto d = parse_duration(value);
    if (!d) bad(key, "'" + value + "' is not a duration such as 500ms, 1s or 1m");
    if (d->count() == 0 && !zero_allowed) bad(key, "must be longer than 0");
    return *d;
}

double parse_rate(const std::string& key, const std::string& value, double minimum) {
    double v = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc{} || ptr != value.data() + value.size() || !std::isfinite(v))
        bad(key, "'" + value + "' is not a number");
    if (v < minimum) bad(key, "must be at least " + std::to_string(minimum));
    return v;
}

// A topic or prefix the plugin builds rules from: concrete levels only, none empty, not a
// '$' topic (those are the broker's own).
std::string parse_topic(const std::string& key, const std::string& value, bool empty_allowed) {
    if (value.empty()) {
        if (empty_allowed) return value;
        bad(key, "must not be empty");
    }
    if (value.find_first_of("+#") != std::string::npos) bad(key, "'" + value + "' must not contain wildcards");
    if (value.front() == '$') bad(key, "'" + value + "' must not start with '$'");
    if (value.front() == '/' || value.back() == '/' || value.find("//") != std::string::npos)
        bad(key, "'" + value + "' has an empty topic level");
    return value;
}

}  // namespace

Options parse_options(const std::vector<std::pair<std::string, std::string>>& pairs) {
    Options o;
    using Setter = std::function<void(const std::string&, const std::string&)>;
    auto topic = [](std::string& field, bool empty_allowed = false) -> Setter {
        return [&field, empty_allowed](const std::string& k, const std::string& v) { field = parse_topic(k, v, empty_allowed); };
    };
    const std::map<std::string, Setter, std::less<>> setters = {
        {"postgres_dsn",
         [&](const std::string& k, const std::string& v) {
             if (v.empty()) bad(k, "must not be empty");
             o.postgres_dsn = v;
         }},
        // Refused rather than ignored: registry changes reach the plugin through PostgreSQL's change
        // logs within refresh_interval, and a setting that does nothing would say otherwise.
        {"redis_uri",
         [&](const std::string& k, const std::string&) {
             bad(k, "is not used by the plugin (registry changes arrive through PostgreSQL's change logs); remove it");
         }},
        {"allow_anonymous", [&](const std::string& k, const std::string& v) { o.allow_anonymous = parse_bool(k, v); }},
        {"service_client_prefix", [&](const std::string&, const std::string& v) { o.service_client_prefix = v; }},
        {"max_payload",
         [&](const std::string& k, const std::string& v) {
             auto size = parse_byte_size(v);
             if (!size || *size == 0 || *size > (256u << 20))
                 bad(k, "'" + v + "' is not a size between 1 and 256MB, e.g. 16KB");
             o.max_payload = static_cast<std::size_t>(*size);
         }},
        {"rate_per_device",
         [&](const std::string& k, const std::string& v) { o.rate_per_device = parse_rate(k, v, 0); }},
        {"rate_burst", [&](const std::string& k, const std::string& v) { o.rate_burst = parse_rate(k, v, 1); }},
        {"refresh_interval",
         [&](const std::string& k, const std::string& v) { o.refresh_interval = parse_interval(k, v, false); }},
        {"full_reload_interval",
         [&](const std::string& k, const std::string& v) { o.full_reload_interval = parse_interval(k, v, true); }},
        {"db_timeout", [&](const std::string& k, const std::string& v) { o.db_timeout = parse_interval(k, v, false); }},
        {"reading_prefix", topic(o.reading_prefix)},
        {"state_prefix", topic(o.state_prefix)},
        {"tasmota_prefix", topic(o.tasmota_prefix)},
        {"tasmota_command_prefix", topic(o.tasmota_command_prefix)},
        {"shelly_gen1_prefix", topic(o.shelly_gen1_prefix)},
        {"alert_prefix", topic(o.alert_prefix)},
        {"insights_prefix", topic(o.insights_prefix)},
        {"status_prefix", topic(o.status_prefix)},
        {"deadletter_topic", topic(o.deadletter_topic)},
        {"discovery_prefix", topic(o.discovery_prefix, true)},
        {"dashboard_discovery",
         [&](const std::string& k, const std::string& v) { o.dashboard_discovery = parse_bool(k, v); }},
    };

    std::set<std::string, std::less<>> seen;
    for (const auto& [key, value] : pairs) {
        auto it = setters.find(key);
        if (it == setters.end()) bad(key, "unknown option");
        if (!seen.insert(key).second) bad(key, "given twice");
        it->second(key, value);
    }
    if (o.postgres_dsn.empty()) bad("postgres_dsn", "is required (a libpq connection string or URI)");
    return o;
}

}  // namespace energyhub::broker
