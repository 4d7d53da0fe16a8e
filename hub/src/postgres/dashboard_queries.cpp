#include "postgres/dashboard_queries.hpp"

#include <algorithm>

#include "postgres/fields.hpp"

namespace energyhub::postgres {

namespace {

constexpr const char* kDevicesSql = R"SQL(
WITH ids AS (
    SELECT d.device_id AS id, d.device_id AS parent FROM devices d WHERE $1 = '' OR d.user_id = $1
    UNION
    SELECT h.device_id, split_part(h.device_id, ':', 1) FROM readings_hourly h
    WHERE h.hour >= now() - interval '48 hours' AND strpos(h.device_id, ':') > 0 AND ($1 = '' OR h.user_id = $1)
)
SELECT i.id, d.device_id, d.user_id, coalesce(d.name, ''), d.type,
       (extract(epoch FROM l.ts) * 1000)::bigint, l.power_w, l.energy_wh, l.voltage_v, l.current_a,
       coalesce(t.today_wh, 0), l.energy_export_wh, coalesce(t.today_export_wh, 0)
FROM ids i
JOIN devices d ON d.device_id = i.parent
JOIN users u ON u.user_id = d.user_id
LEFT JOIN LATERAL (
    SELECT r.ts, r.power_w, r.energy_wh, r.voltage_v, r.current_a, r.energy_export_wh FROM readings r
    WHERE r.device_id = i.id AND r.ts >= now() - interval '2 days' AND r.ts <= now() + interval '5 minutes'
    ORDER BY r.ts DESC LIMIT 1
) l ON true
LEFT JOIN LATERAL (
    SELECT sum(h.energy_wh) AS today_wh, sum(h.export_wh) AS today_export_wh FROM readings_hourly h
    WHERE h.device_id = i.id AND h.hour >= (date_trunc('day', now() AT TIME ZONE u.tz) AT TIME ZONE u.tz)
) t ON true
ORDER BY d.user_id, i.id
LIMIT $2
)SQL";

constexpr const char* kUsageSql = R"SQL(
SELECT (extract(epoch FROM hour) * 1000)::bigint, samples, power_samples, power_sum, power_max, power_min, energy_wh,
       export_wh
FROM readings_hourly
WHERE device_id = $1 AND hour >= date_trunc('hour', to_timestamp($2::double precision / 1000))
ORDER BY hour
)SQL";

// The latest transition per device and rule, as the hub restores them after a restart.
constexpr const char* kOpenAlertsSql = R"SQL(
SELECT id, user_id, device_id, rule, state, value, threshold, since_ms, ts_ms, message FROM (
    SELECT DISTINCT ON (device_id, rule) id::text AS id, user_id, device_id, rule, state, value, threshold,
           (extract(epoch FROM since) * 1000)::bigint AS since_ms, (extract(epoch FROM ts) * 1000)::bigint AS ts_ms,
           message
    FROM alerts WHERE $1 = '' OR user_id = $1
    ORDER BY device_id, rule, ts DESC, state
) latest
WHERE state = 'firing'
ORDER BY ts_ms DESC
LIMIT $2
)SQL";

constexpr const char* kInsightsSql = R"SQL(
SELECT id, user_id, (extract(epoch FROM created_at) * 1000)::bigint, (extract(epoch FROM period_start) * 1000)::bigint,
       (extract(epoch FROM period_end) * 1000)::bigint, source, summary, recommendations::text, trigger, device_id
FROM insights WHERE user_id = $1
ORDER BY created_at DESC, id DESC
LIMIT $2
)SQL";

// Days and local hours in the owner's zone; $2 days ending today.
constexpr const char* kDaysSql = R"SQL(
SELECT to_char(day, 'YYYY-MM-DD')
FROM devices d JOIN users u ON u.user_id = d.user_id,
     generate_series((now() AT TIME ZONE u.tz)::date - ($2::int - 1), (now() AT TIME ZONE u.tz)::date, interval '1 day') AS day
WHERE d.device_id = split_part($1, ':', 1)
ORDER BY 1
)SQL";

constexpr const char* kDailySql = R"SQL(
SELECT to_char(h.hour AT TIME ZONE u.tz, 'YYYY-MM-DD'), extract(hour FROM h.hour AT TIME ZONE u.tz)::int,
       sum(h.energy_wh), sum(h.export_wh)
FROM readings_hourly h
JOIN devices d ON d.device_id = split_part(h.device_id, ':', 1)
JOIN users u ON u.user_id = d.user_id
WHERE h.device_id = $1
  AND h.hour >= ((now() AT TIME ZONE u.tz)::date - ($2::int - 1))::timestamp AT TIME ZONE u.tz
GROUP BY 1, 2
)SQL";

}  // namespace

// One query at a time on the shared session; a failed connection is reopened for the next call.
template <typename F>
auto DashboardQueries::with_connection(F f) {
    std::lock_guard lock(mutex_);
    return session_.run(f);
}

std::vector<DeviceView> DashboardQueries::devices(const std::string& user, std::size_t limit) {
    return with_connection([&](pqxx::connection& conn) {
        pqxx::read_transaction tx(conn);
        std::vector<DeviceView> out;
        for (const auto& r : tx.exec_params(kDevicesSql, user, static_cast<std::int64_t>(limit))) {
            DeviceView d;
            d.device_id = r[0].as<std::string>();
            d.parent_id = r[1].as<std::string>();
            d.user_id = r[2].as<std::string>();
            d.name = r[3].as<std::string>();
            d.type = r[4].as<std::string>();
            d.last_ts_ms = optional_field<std::int64_t>(r[5]);
            d.power_w = optional_field<double>(r[6]);
            d.energy_wh = optional_field<double>(r[7]);
            d.voltage_v = optional_field<double>(r[8]);
            d.current_a = optional_field<double>(r[9]);
            d.today_wh = r[10].as<double>();
            d.energy_export_wh = optional_field<double>(r[11]);
            d.today_export_wh = r[12].as<double>();
            out.push_back(std::move(d));
        }
        return out;
    });
}

std::optional<std::vector<HourView>> DashboardQueries::usage(const std::string& device_id, std::int64_t since_ms) {
    return with_connection([&](pqxx::connection& conn) -> std::optional<std::vector<HourView>> {
        pqxx::read_transaction tx(conn);
        if (tx.exec_params("SELECT 1 FROM devices WHERE device_id = split_part($1, ':', 1)", device_id).empty())
            return std::nullopt;
        std::vector<HourView> out;
        for (const auto& r : tx.exec_params(kUsageSql, device_id, since_ms)) {
            HourView h;
            h.hour_ms = r[0].as<std::int64_t>();
            h.samples = r[1].as<std::int64_t>();
            h.power_samples = r[2].as<std::int64_t>();
            h.power_sum = r[3].as<double>();
            h.power_max = optional_field<double>(r[4]);
            h.power_min = optional_field<double>(r[5]);
            h.energy_wh = r[6].as<double>();
            h.export_wh = r[7].as<double>();
            out.push_back(h);
        }
        return out;
    });
}

std::optional<std::vector<DayView>> DashboardQueries::daily(const std::string& device_id, int days) {
    return with_connection([&](pqxx::connection& conn) -> std::optional<std::vector<DayView>> {
        pqxx::read_transaction tx(conn);
        std::vector<DayView> out;
        for (const auto& r : tx.exec_params(kDaysSql, device_id, days)) out.push_back(DayView{r[0].as<std::string>()});
        if (out.empty()) return std::nullopt;  // no such device
        for (const auto& r : tx.exec_params(kDailySql, device_id, days)) {
            const auto day = r[0].as<std::string>();
            auto it = std::lower_bound(out.begin(), out.end(), day,
                                       [](const DayView& d, const std::string& v) { return d.day < v; });
            if (it == out.end() || it->day != day) continue;
            const auto hour = r[1].as<int>();
            const auto wh = r[2].as<double>();
            it->energy_wh += wh;
            it->export_wh += r[3].as<double>();
            if (hour >= 0 && hour < 24) it->energy_by_hour_wh[static_cast<std::size_t>(hour)] += wh;
        }
        return out;
    });
}

std::vector<AlertView> DashboardQueries::open_alerts(const std::string& user, std::size_t limit) {
    return with_connection([&](pqxx::connection& conn) {
        pqxx::read_transaction tx(conn);
        std::vector<AlertView> out;
        for (const auto& r : tx.exec_params(kOpenAlertsSql, user, static_cast<std::int64_t>(limit))) {
            AlertView a;
            a.id = r[0].as<std::string>();
            a.user_id = r[1].as<std::string>();
            a.device_id = r[2].as<std::string>();
            a.rule = r[3].as<std::string>();
            a.state = r[4].as<std::string>();
            a.value = r[5].as<double>();
            a.threshold = r[6].as<double>();
            a.since_ms = r[7].as<std::int64_t>();
            a.ts_ms = r[8].as<std::int64_t>();
            a.message = r[9].as<std::string>();
            out.push_back(std::move(a));
        }
        return out;
    });
}

std::vector<InsightView> DashboardQueries::insights(const std::string& user, std::size_t limit) {
    return with_connection([&](pqxx::connection& conn) {
        std::vector<InsightView> out;
        pqxx::read_transaction tx(conn);
        // The insights schema belongs to the insights daemon; a database without it has no insights.
        if (tx.exec1("SELECT to_regclass('insights') IS NOT NULL")[0].as<bool>() == false) return out;
        for (const auto& r : tx.exec_params(kInsightsSql, user, static_cast<std::int64_t>(limit))) {
            InsightView i;
            i.id = r[0].as<std::int64_t>();
            i.user_id = r[1].as<std::string>();
            i.created_ms = r[2].as<std::int64_t>();
            i.period_start_ms = r[3].as<std::int64_t>();
            i.period_end_ms = r[4].as<std::int64_t>();
            i.source = r[5].as<std::string>();
            i.summary = r[6].as<std::string>();
            i.recommendations_json = r[7].as<std::string>();
            i.trigger = r[8].as<std::string>();
            i.device_id = optional_field<std::string>(r[9]);
            out.push_back(std::move(i));
        }
        return out;
    });
}

}  // namespace energyhub::postgres
