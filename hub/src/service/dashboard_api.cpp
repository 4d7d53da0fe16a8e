#include "service/dashboard_api.hpp"

#include <charconv>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "domain/ids.hpp"
#include "postgres/dashboard_queries.hpp"
#include "util/clock.hpp"
#include "util/duration.hpp"
#include "util/timestamp.hpp"

namespace energyhub {

namespace {

constexpr std::size_t kMaxDevices = 1000;
constexpr std::size_t kMaxAlerts = 200;
constexpr std::size_t kMaxInsights = 20;
constexpr std::int64_t kMaxUsageMs = 31LL * 86'400'000;
constexpr std::int64_t kMinUsageMs = 3'600'000;
constexpr int kDefaultDays = 7;
constexpr int kMaxDays = 31;

using nlohmann::json;

HttpResponse answer(int status, const json& body) {
    return HttpResponse{status, "application/json", body.dump(-1, ' ', false, json::error_handler_t::replace)};
}
HttpResponse problem(int status, const std::string& what) { return answer(status, json{{"error", what}}); }

json number_or_null(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }
json time_or_null(const std::optional<std::int64_t>& ms) { return ms ? json(format_iso8601(*ms)) : json(nullptr); }

std::string query(const HttpRequest& req, const std::string& key) {
    auto it = req.query.find(key);
    return it == req.query.end() ? std::string() : it->second;
}

// ?user= is optional, but when given it must be a user id.
std::optional<std::string> user_filter(const HttpRequest& req) {
    auto user = query(req, "user");
    if (!user.empty() && !is_valid_id(user)) return std::nullopt;
    return user;
}

std::optional<std::size_t> limit_of(const HttpRequest& req, std::size_t fallback, std::size_t max) {
    auto text = query(req, "limit");
    if (text.empty()) return fallback;
    std::size_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end != text.data() + text.size() || n == 0 || n > max) return std::nullopt;
    return n;
}

json device_json(const postgres::DeviceView& d) {
    const bool channel = d.device_id.size() != d.parent_id.size();
    return {
        {"device_id", d.device_id},
        {"parent_id", d.parent_id},
        {"channel", channel ? json(d.device_id.substr(d.parent_id.size() + 1)) : json(nullptr)},
        {"user_id", d.user_id},
        {"name", d.name},
        {"type", d.type},
        {"last_seen", time_or_null(d.last_ts_ms)},
        {"power_w", number_or_null(d.power_w)},
        {"energy_wh", number_or_null(d.energy_wh)},
        {"energy_export_wh", number_or_null(d.energy_export_wh)},
        {"voltage_v", number_or_null(d.voltage_v)},
        {"current_a", number_or_null(d.current_a)},
        {"today_kwh", d.today_wh / 1000.0},
        {"today_export_kwh", d.today_export_wh / 1000.0},
    };
}

}  // namespace

void add_dashboard_routes(HttpServer& server, const Config& config) {
    auto db = std::make_shared<postgres::DashboardQueries>(config.postgres.dsn);
    const Clock* clock = &SystemClock::instance();

    auto page = [](const HttpRequest&) {
        return HttpResponse{200, "text/html; charset=utf-8", std::string(dashboard_page())};
    };
    server.get("/", page);
    server.get("/dashboard", page);
    server.public_path("/");
    server.public_path("/dashboard");

    server.get("/api/devices", [db, clock](const HttpRequest& req) {
        auto user = user_filter(req);
        if (!user) return problem(400, "user must be a user id");
        auto limit = limit_of(req, kMaxDevices, kMaxDevices);
        if (!limit) return problem(400, "limit must be 1.." + std::to_string(kMaxDevices));
        const auto rows = db->devices(*user, *limit);
        // A device whose channels report (a Shelly 2PM) and that reports nothing itself is shown
        // through its channels only.
        std::set<std::string> with_channels;
        for (const auto& d : rows)
            if (d.device_id.size() != d.parent_id.size()) with_channels.insert(d.parent_id);
        json devices = json::array();
        for (const auto& d : rows) {
            if (!d.last_ts_ms && with_channels.count(d.device_id)) continue;
            devices.push_back(device_json(d));
        }
        return answer(200, json{{"generated_at", format_iso8601(clock->now_ms())}, {"devices", std::move(devices)}});
    });

    server.get("/api/devices/([^/]+)/usage", [db, clock](const HttpRequest& req) {
        const auto& id = req.captures.at(0);
        if (!is_valid_reading_device_id(id))
            return problem(400, "device id must match [A-Za-z0-9_.-]{1,64}, optionally :<channel>");
        auto since_text = query(req, "since");
        if (since_text.empty()) since_text = "24h";
        auto since = parse_duration(since_text);
        if (!since || since->count() < kMinUsageMs || since->count() > kMaxUsageMs)
            return problem(400, "since must be a duration from 1h to 31d, such as 24h");
        const auto from_ms = clock->now_ms() - since->count();
        auto hours = db->usage(id, from_ms);
        if (!hours) return problem(404, "no such device");
        json rows = json::array();
        double total = 0, total_export = 0;
        for (const auto& h : *hours) {
            total += h.energy_wh;
            total_export += h.export_wh;
            rows.push_back({
                {"hour", format_iso8601(h.hour_ms)},
                {"energy_wh", h.energy_wh},
                {"export_wh", h.export_wh},
                {"power_avg_w",
                 h.power_samples > 0 ? json(h.power_sum / static_cast<double>(h.power_samples)) : json(nullptr)},
                {"power_max_w", number_or_null(h.power_max)},
                {"power_min_w", number_or_null(h.power_min)},
                {"samples", h.samples},
            });
        }
        return answer(200, json{{"device_id", id},
                                {"since", since_text},
                                {"from", format_iso8601(from_ms)},
                                {"total_wh", total},
                                {"total_export_wh", total_export},
                                {"hours", std::move(rows)}});
    });

    // Daily bars: import and export per local day, and its cost when a tariff is configured.
    const Tariff tariff = config.insights.tariff;
    server.get("/api/devices/([^/]+)/daily", [db, tariff](const HttpRequest& req) {
        const auto& id = req.captures.at(0);
        if (!is_valid_reading_device_id(id))
            return problem(400, "device id must match [A-Za-z0-9_.-]{1,64}, optionally :<channel>");
        int days = kDefaultDays;
        if (auto text = query(req, "days"); !text.empty()) {
            auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), days);
            if (ec != std::errc{} || end != text.data() + text.size() || days < 1 || days > kMaxDays)
                return problem(400, "days must be 1.." + std::to_string(kMaxDays));
        }
        auto rows = db->daily(id, days);
        if (!rows) return problem(404, "no such device");
        const bool priced = tariff.configured();
        json out = json::array();
        double total = 0, total_export = 0, total_cost = 0;
        for (const auto& d : *rows) {
            double cost = 0;
            for (int h = 0; h < 24; ++h)
                cost += d.energy_by_hour_wh[static_cast<std::size_t>(h)] / 1000.0 * tariff.price_at_hour(h);
            total += d.energy_wh;
            total_export += d.export_wh;
            total_cost += cost;
            out.push_back({{"day", d.day},
                           {"energy_wh", d.energy_wh},
                           {"export_wh", d.export_wh},
                           {"cost", priced ? json(cost) : json(nullptr)}});
        }
        return answer(200, json{{"device_id", id},
                                {"currency", priced ? json(tariff.currency) : json(nullptr)},
                                {"total_wh", total},
                                {"total_export_wh", total_export},
                                {"total_cost", priced ? json(total_cost) : json(nullptr)},
                                {"days", std::move(out)}});
    });

    server.get("/api/alerts", [db](const HttpRequest& req) {
        auto user = user_filter(req);
        if (!user) return problem(400, "user must be a user id");
        auto limit = limit_of(req, kMaxAlerts, kMaxAlerts);
        if (!limit) return problem(400, "limit must be 1.." + std::to_string(kMaxAlerts));
        json alerts = json::array();
        for (const auto& a : db->open_alerts(*user, *limit)) {
            alerts.push_back({{"id", a.id},
                              {"user_id", a.user_id},
                              {"device_id", a.device_id},
                              {"rule", a.rule},
                              {"state", a.state},
                              {"value", a.value},
                              {"threshold", a.threshold},
                              {"since", format_iso8601(a.since_ms)},
                              {"ts", format_iso8601(a.ts_ms)},
                              {"message", a.message}});
        }
        return answer(200, json{{"alerts", std::move(alerts)}});
    });

    server.get("/api/insights/([^/]+)", [db](const HttpRequest& req) {
        const auto& user = req.captures.at(0);
        if (!is_valid_id(user)) return problem(400, "user must be a user id");
        auto limit = limit_of(req, 1, kMaxInsights);
        if (!limit) return problem(400, "limit must be 1.." + std::to_string(kMaxInsights));
        json insights = json::array();
        for (const auto& i : db->insights(user, *limit)) {
            json recommendations = json::parse(i.recommendations_json, nullptr, false);
            if (recommendations.is_discarded()) recommendations = json::array();
            insights.push_back({{"id", i.id},
                                {"user_id", i.user_id},
                                {"created_at", format_iso8601(i.created_ms)},
                                {"period_start", format_iso8601(i.period_start_ms)},
                                {"period_end", format_iso8601(i.period_end_ms)},
                                {"source", i.source},
                                {"trigger", i.trigger},
                                {"device_id", i.device_id ? json(*i.device_id) : json(nullptr)},
                                {"summary", i.summary},
                                {"recommendations", std::move(recommendations)}});
        }
        return answer(200, json{{"user_id", user}, {"insights", std::move(insights)}});
    });
}

}  // namespace energyhub
