#include "postgres/local_days.hpp"

#include <spdlog/spdlog.h>

#include "util/timestamp.hpp"

namespace energyhub::postgres {

std::pair<std::int64_t, std::int64_t> LocalDays::day_of(std::string_view time_zone, std::int64_t ts_ms) {
    std::string zone(time_zone.empty() ? "UTC" : time_zone);
    if (auto it = days_.find(zone); it != days_.end() && ts_ms >= it->second.first && ts_ms < it->second.second)
        return it->second;
    const auto start = day_start_ms(ts_ms);
    std::pair<std::int64_t, std::int64_t> utc_day{start, start + kMsPerDay};
    try {
        ++queries_;
        auto day = session_.run([&](pqxx::connection& conn) {
            pqxx::read_transaction tx(conn);
            auto r = tx.exec_params(
                "WITH d AS (SELECT date_trunc('day', to_timestamp($2 / 1000.0) AT TIME ZONE $1) AS day) "
                "SELECT (extract(epoch FROM d.day AT TIME ZONE $1) * 1000)::bigint, "
                "       (extract(epoch FROM (d.day + interval '1 day') AT TIME ZONE $1) * 1000)::bigint FROM d",
                zone, ts_ms);
            return std::pair<std::int64_t, std::int64_t>{r[0][0].as<std::int64_t>(), r[0][1].as<std::int64_t>()};
        });
        days_[zone] = day;
        return day;
    } catch (const StoreError& e) {
        // Without the database a UTC day is the best answer, asked again next time. A zone
        // PostgreSQL does not know (users.tz set by hand) stays on UTC days.
        if (e.failure() != StoreFailure::unavailable) {
            spdlog::get("hub.store")->warn("time zone '{}' not usable, UTC days instead: {}", zone, e.what());
            days_[zone] = utc_day;
        }
        return utc_day;
    }
}

}  // namespace energyhub::postgres
