#include "postgres/insight_repository.hpp"

#include "postgres/alert_store.hpp"

namespace energyhub::postgres {

namespace {

// The energy of one rollup hour in Wh: the meter's counter deltas when it has them, otherwise
// the mean power over the hour (a plug that reports only watts); export does not count as use.
#define ENERGY_WH                                                                                   \
    "(CASE WHEN energy_wh > 0 THEN energy_wh "                                                      \
    "WHEN power_samples > 0 THEN greatest(power_sum / power_samples, 0) ELSE 0 END)"

constexpr const char* kBounds = R"SQL(
SELECT u.tz,
       to_char(d.local_today - 1, 'YYYY-MM-DD'),
       to_char(d.local_today - 7, 'YYYY-MM-DD'),
       (extract(epoch FROM ((d.local_today - 14)::timestamp AT TIME ZONE u.tz)) * 1000)::bigint,
       (extract(epoch FROM ((d.local_today - 7)::timestamp AT TIME ZONE u.tz)) * 1000)::bigint,
       (extract(epoch FROM ((d.local_today - 1)::timestamp AT TIME ZONE u.tz)) * 1000)::bigint,
       (extract(epoch FROM (d.local_today::timestamp AT TIME ZONE u.tz)) * 1000)::bigint
FROM users u
CROSS JOIN LATERAL (SELECT (to_timestamp($2 / 1000.0) AT TIME ZONE u.tz)::date AS local_today) d
WHERE u.user_id = $1
)SQL";

// Energy per device, bucket (0 the 7 days before, 1 the last 7 days but yesterday, 2 yesterday)
// and local hour of the day.
constexpr const char* kUsage = "SELECT device_id, "
                               "CASE WHEN hour >= to_timestamp($4 / 1000.0) THEN 2 "
                               "     WHEN hour >= to_timestamp($3 / 1000.0) THEN 1 ELSE 0 END, "
                               "extract(hour FROM hour AT TIME ZONE $5)::int, "
                               "sum(" ENERGY_WH "), sum(export_wh) "
                               "FROM readings_hourly "
                               "WHERE user_id = $1 AND hour >= to_timestamp($2 / 1000.0) AND hour < to_timestamp($6 / 1000.0) "
                               "GROUP BY 1, 2, 3";

// Each device's use in each night hour of the last 7 days (the base load is the lowest total).
constexpr const char* kNight = "SELECT device_id, (extract(epoch FROM hour) * 1000)::bigint, " ENERGY_WH " "
                               "FROM readings_hourly "
                               "WHERE user_id = $1 AND hour >= to_timestamp($2 / 1000.0) AND hour < to_timestamp($3 / 1000.0) "
                               "  AND extract(hour FROM hour AT TIME ZONE $4) >= $5 "
                               "  AND extract(hour FROM hour AT TIME ZONE $4) < $6";

#undef ENERGY_WH

}  // namespace

std::vector<std::string> InsightRepository::users(const std::string& only) {
    return session_.run([&](pqxx::connection& conn) {
        pqxx::read_transaction tx(conn);
        auto rows = only.empty() ? tx.exec("SELECT user_id FROM users ORDER BY user_id")
                                 : tx.exec_params("SELECT user_id FROM users WHERE user_id = $1", only);
        std::vector<std::string> out;
        for (const auto& r : rows) out.push_back(r[0].as<std::string>());
        return out;
    });
}

insights::UsageData InsightRepository::usage(const std::string& user_id, std::int64_t now_ms) {
    return session_.run([&](pqxx::connection& conn) {
        pqxx::read_transaction tx(conn);
        insights::UsageData d;
        d.user_id = user_id;
        auto bounds = tx.exec_params(kBounds, user_id, now_ms);
        if (bounds.empty()) return d;
        d.tz = bounds[0][0].as<std::string>();
        d.yesterday = bounds[0][1].as<std::string>();
        d.week_first = bounds[0][2].as<std::string>();
        d.previous_start_ms = bounds[0][3].as<std::int64_t>();
        d.period_start_ms = bounds[0][4].as<std::int64_t>();
        d.yesterday_start_ms = bounds[0][5].as<std::int64_t>();
        d.period_end_ms = bounds[0][6].as<std::int64_t>();

        for (const auto& r : tx.exec_params(
                 "SELECT device_id, coalesce(name, ''), type FROM devices WHERE user_id = $1 ORDER BY device_id",
                 user_id))
            d.devices.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>()});

        for (const auto& r : tx.exec_params(kUsage, user_id, d.previous_start_ms, d.period_start_ms,
                                            d.yesterday_start_ms, d.tz, d.period_end_ms)) {
            d.rows.push_back({r[0].as<std::string>(), static_cast<insights::Bucket>(r[1].as<int>()), r[2].as<int>(),
                              r[3].as<double>(0.0), r[4].as<double>(0.0)});
        }
        for (const auto& r : tx.exec_params(kNight, user_id, d.period_start_ms, d.period_end_ms, d.tz,
                                            insights::kNightFirstHour, insights::kNightEndHour))
            d.night.push_back({r[0].as<std::string>(), r[1].as<std::int64_t>(), r[2].as<double>()});
        return d;
    });
}

std::vector<Alert> InsightRepository::alerts(const std::string& user_id, std::int64_t from_ms, std::int64_t to_ms,
                                             std::size_t limit) {
    return session_.run([&](pqxx::connection& conn) {
        pqxx::read_transaction tx(conn);
        auto rows = tx.exec_params(
            "SELECT id::text, user_id, device_id, rule, state, value, threshold, "
            "       (extract(epoch FROM since) * 1000)::bigint, (extract(epoch FROM ts) * 1000)::bigint, message "
            "FROM alerts WHERE user_id = $1 AND ts >= to_timestamp($2 / 1000.0) AND ts <= to_timestamp($3 / 1000.0) "
            "ORDER BY ts DESC LIMIT $4",
            user_id, from_ms, to_ms, static_cast<long long>(limit));
        std::vector<Alert> out;
        for (const auto& r : rows) {
            if (!rule_from_name(r[3].as<std::string>())) continue;  // facts name only rules we know
            out.push_back(alert_from_row(r));
        }
        return out;
    });
}

void InsightRepository::store(insights::Insight& insight) {
    return session_.run([&](pqxx::connection& conn) {
        pqxx::work tx(conn);
        const auto dump = [](const nlohmann::json& j) {
            return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        };
        auto row = tx.exec_params1(
            "INSERT INTO insights (user_id, period_start, period_end, source, format, summary, recommendations, facts, "
            "                      trigger, device_id, alert_id) "
            "VALUES ($1, to_timestamp($2 / 1000.0), to_timestamp($3 / 1000.0), $4, $5, $6, $7::jsonb, $8::jsonb, $9, "
            "        NULLIF($10, ''), NULLIF($11, '')) "
            "RETURNING id, (extract(epoch FROM created_at) * 1000)::bigint",
            insight.user_id, insight.period_start_ms, insight.period_end_ms, insight.advice.source,
            insight.advice.format, insight.advice.summary,
            dump(insights::recommendations_json(insight.advice.recommendations)), dump(insight.facts), insight.trigger,
            insight.device_id, insight.alert_id);
        tx.commit();
        insight.id = row[0].as<std::int64_t>();
        insight.created_ms = row[1].as<std::int64_t>();
    });
}

std::vector<insights::Insight> InsightRepository::latest(const std::string& after_user, std::size_t limit) {
    return session_.run([&](pqxx::connection& conn) {
        pqxx::read_transaction tx(conn);
        // One index probe of insights_user_idx per user, however many insights each has.
        auto rows = tx.exec_params(
            "SELECT i.id, i.user_id, (extract(epoch FROM i.period_start) * 1000)::bigint, "
            "       (extract(epoch FROM i.period_end) * 1000)::bigint, i.source, i.format, i.summary, "
            "       i.recommendations::text, i.facts::text, i.trigger, coalesce(i.device_id, ''), "
            "       coalesce(i.alert_id, ''), (extract(epoch FROM i.created_at) * 1000)::bigint "
            "FROM users u CROSS JOIN LATERAL "
            "     (SELECT * FROM insights WHERE user_id = u.user_id ORDER BY created_at DESC LIMIT 1) i "
            "WHERE u.user_id > $1 ORDER BY u.user_id LIMIT $2",
            after_user, static_cast<long long>(limit));
        std::vector<insights::Insight> out;
        for (const auto& r : rows) {
            insights::Insight& i = out.emplace_back();
            i.id = r[0].as<std::int64_t>();
            i.user_id = r[1].as<std::string>();
            i.period_start_ms = r[2].as<std::int64_t>();
            i.period_end_ms = r[3].as<std::int64_t>();
            i.advice.source = r[4].as<std::string>();
            i.advice.format = r[5].as<std::string>();
            i.advice.summary = r[6].as<std::string>();
            i.advice.recommendations = insights::recommendations_from_json(nlohmann::json::parse(r[7].c_str()));
            i.facts = nlohmann::json::parse(r[8].c_str());
            i.trigger = r[9].as<std::string>();
            i.device_id = r[10].as<std::string>();
            i.alert_id = r[11].as<std::string>();
            i.created_ms = r[12].as<std::int64_t>();
        }
        return out;
    });
}

bool InsightRepository::claim_on_demand(const Alert& alert, int per_day, std::int64_t now_ms) {
    return session_.run([&](pqxx::connection& conn) {
        for (int n = 1; n <= per_day; ++n) {
            pqxx::work tx(conn);
            auto rows = tx.exec_params(
                "INSERT INTO insight_on_demand (device_id, local_day, n, user_id, alert_id) "
                "SELECT $1, (to_timestamp($3 / 1000.0) AT TIME ZONE u.tz)::date, $4, u.user_id, $5 FROM users u "
                "WHERE u.user_id = $2 ON CONFLICT DO NOTHING RETURNING n",
                alert.device_id, alert.user_id, now_ms, n, alert.id);
            tx.commit();
            if (!rows.empty()) return true;
        }
        return false;
    });
}

std::optional<std::int64_t> InsightRepository::last_slot(const std::string& schedule) {
    return session_.run([&](pqxx::connection& conn) -> std::optional<std::int64_t> {
        pqxx::read_transaction tx(conn);
        auto rows = tx.exec_params("SELECT extract(epoch FROM last_slot)::bigint FROM insight_schedule WHERE name = $1",
                                   schedule);
        if (rows.empty()) return std::nullopt;
        return rows[0][0].as<std::int64_t>();
    });
}

void InsightRepository::init_slot(const std::string& schedule, std::int64_t slot) {
    return session_.run([&](pqxx::connection& conn) {
        pqxx::work tx(conn);
        tx.exec_params(
            "INSERT INTO insight_schedule (name, last_slot) VALUES ($1, to_timestamp($2)) ON CONFLICT DO NOTHING",
            schedule, slot);
        tx.commit();
    });
}

bool InsightRepository::claim_slot(const std::string& schedule, std::int64_t slot) {
    return session_.run([&](pqxx::connection& conn) {
        pqxx::work tx(conn);
        auto rows = tx.exec_params(
            "UPDATE insight_schedule SET last_slot = to_timestamp($2), updated_at = now() "
            "WHERE name = $1 AND last_slot < to_timestamp($2) RETURNING 1",
            schedule, slot);
        tx.commit();
        return !rows.empty();
    });
}

void InsightRepository::prune(std::int64_t now_ms) {
    return session_.run([&](pqxx::connection& conn) {
        pqxx::work tx(conn);
        tx.exec_params(
            "DELETE FROM insight_on_demand WHERE local_day < (to_timestamp($1 / 1000.0) AT TIME ZONE 'UTC')::date - 7",
            now_ms);
        tx.commit();
    });
}

}  // namespace energyhub::postgres
