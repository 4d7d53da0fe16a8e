#include "config/insights_config.hpp"

#include <cctype>
#include <cmath>
#include <set>

#include "config/section.hpp"
#include "domain/ids.hpp"
#include "util/cron.hpp"
#include "util/duration.hpp"
#include "util/time_zone.hpp"

namespace energyhub {

namespace {

// "17:00" → 17; "24:00" only where `allow_24`. Whole hours: the rollup the costs come from is hourly.
int parse_band_hour(Section& s, const YAML::Node& n, const std::string& key, bool allow_24) {
    const std::string text = n.IsScalar() ? n.Scalar() : std::string();
    const bool shape = text.size() == 5 && std::isdigit(static_cast<unsigned char>(text[0])) &&
                       std::isdigit(static_cast<unsigned char>(text[1])) && text[2] == ':' &&
                       std::isdigit(static_cast<unsigned char>(text[3])) && std::isdigit(static_cast<unsigned char>(text[4]));
    if (!shape) s.fail(n, key, "must be a time of day such as \"17:00\"");
    const int hour = (text[0] - '0') * 10 + (text[1] - '0');
    const int minute = (text[3] - '0') * 10 + (text[4] - '0');
    if (minute != 0) s.fail(n, key, "must be a whole hour (costs come from the hourly rollup)");
    if (hour > (allow_24 ? 24 : 23)) s.fail(n, key, "is not a time of day");
    return hour;
}

void read_tariff(Section s, Tariff& t) {
    s.number("per_kwh", t.per_kwh, 0);
    s.string("currency", t.currency);
    auto bands = s.child("bands");
    if (bands.IsDefined() && !bands.IsNull()) {
        if (!bands.IsSequence()) s.fail(bands, s.key_path("bands"), "must be a list of {from, to, per_kwh}");
        for (std::size_t i = 0; i < bands.size(); ++i) {
            const YAML::Node band = bands[i];
            const std::string where = s.key_path("bands") + "[" + std::to_string(i) + "]";
            if (!band.IsMap()) s.fail(band, where, "must be a mapping {from, to, per_kwh}");
            for (const auto& kv : band) {
                const auto key = s.key_text(kv.first, where);
                if (key != "from" && key != "to" && key != "per_kwh") s.fail(kv.first, where + "." + key, "unknown key");
            }
            for (const char* required : {"from", "to", "per_kwh"})
                if (!band[required].IsDefined()) s.fail(band, where + "." + required, "is required");
            TariffBand b;
            b.from_hour = parse_band_hour(s, band["from"], where + ".from", false);
            b.to_hour = parse_band_hour(s, band["to"], where + ".to", true) % 24;
            if (b.from_hour == b.to_hour) s.fail(band["to"], where + ".to", "must differ from 'from'");
            try {
                b.per_kwh = band["per_kwh"].as<double>();
            } catch (const YAML::Exception&) {
                s.fail(band["per_kwh"], where + ".per_kwh", "must be a number");
            }
            if (!std::isfinite(b.per_kwh) || b.per_kwh < 0) s.fail(band["per_kwh"], where + ".per_kwh", "must be at least 0");
            t.bands.push_back(b);
        }
        // Overlapping bands would make the price of an hour ambiguous.
        std::set<int> taken;
        for (std::size_t i = 0; i < t.bands.size(); ++i)
            for (int h = t.bands[i].from_hour; h != t.bands[i].to_hour; h = (h + 1) % 24)
                if (!taken.insert(h).second)
                    s.fail(bands[i], s.key_path("bands") + "[" + std::to_string(i) + "]", "overlaps another band");
    }
    s.reject_unknown();
    if (t.currency.empty() || t.currency.size() > 8) s.fail(s.child("currency"), s.key_path("currency"), "must be 1 to 8 characters, e.g. EUR");
}

bool has_wildcard(const std::string& topic) { return topic.find_first_of("+#") != std::string::npos; }

}  // namespace

double Tariff::price_at_hour(int hour) const {
    for (const auto& b : bands) {
        const bool inside = b.from_hour < b.to_hour ? (hour >= b.from_hour && hour < b.to_hour)
                                                    : (hour >= b.from_hour || hour < b.to_hour);
        if (inside) return b.per_kwh;
    }
    return per_kwh;
}

void read_ollama_config(Section s, OllamaConfig& c) {
    s.string("url", c.url);
    s.string("model", c.model);
    s.duration("connect_timeout", c.connect_timeout);
    s.duration("timeout", c.timeout);
    s.integer("retries", c.retries, 0, 10);
    s.duration("retry_backoff", c.retry_backoff, true);
    s.number("temperature", c.temperature, 0);
    s.integer("num_predict", c.num_predict, -1, 1'000'000);
    std::string keep_alive;
    s.string("keep_alive", keep_alive);
    s.byte_size("max_answer_bytes", c.max_answer_bytes, 4096);
    s.reject_unknown();

    while (!c.url.empty() && c.url.back() == '/') c.url.pop_back();
    if (!c.url.empty() && c.url.rfind("http://", 0) != 0 && c.url.rfind("https://", 0) != 0)
        s.fail(s.child("url"), "ollama.url", "must start with http:// or https:// (or be empty for rules only)");
    if (c.model.empty()) s.fail(s.child("model"), "ollama.model", "must not be empty");
    if (c.temperature > 2) s.fail(s.child("temperature"), "ollama.temperature", "must be between 0 and 2");
    if (c.connect_timeout > c.timeout) s.fail(s.child("connect_timeout"), "ollama.connect_timeout", "must not exceed ollama.timeout");
    if (!keep_alive.empty()) {
        if (keep_alive == "-1" || keep_alive == "forever") {
            c.keep_alive_seconds = -1;
        } else if (auto d = parse_duration(keep_alive)) {
            c.keep_alive_seconds = std::chrono::duration_cast<std::chrono::seconds>(*d).count();
        } else {
            s.fail(s.child("keep_alive"), "ollama.keep_alive", "must be a duration such as 30m, 0s, or -1 for forever");
        }
    }
}

void read_insights_config(Section s, InsightsConfig& c) {
    s.string("schedule", c.schedule);
    s.string("timezone", c.timezone);
    s.string("client_id", c.client_id);
    s.string("topic_prefix", c.topic_prefix);
    read_tariff(s.section("tariff"), c.tariff);
    s.integer("on_demand_per_device_per_day", c.on_demand_per_device_per_day, 0, 100);
    s.duration("on_demand_max_age", c.on_demand_max_age);
    s.reject_unknown();

    try {
        insights::CronSchedule::parse(c.schedule);
    } catch (const insights::CronError& e) {
        s.fail(s.child("schedule"), "insights.schedule", e.what());
    }
    if (!time_zone_exists(c.timezone))
        s.fail(s.child("timezone"), "insights.timezone", "unknown time zone '" + c.timezone + "' (use a name such as Europe/Berlin)");
    if (!is_valid_id(c.client_id)) s.fail(s.child("client_id"), "insights.client_id", "must match [A-Za-z0-9_.-]{1,64}");
    if (c.topic_prefix.empty() || has_wildcard(c.topic_prefix))
        s.fail(s.child("topic_prefix"), "insights.topic_prefix", "must be a topic without wildcards");
}

}  // namespace energyhub
