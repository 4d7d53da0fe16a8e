#include "postgres/local_days.hpp"

#include "util/timestamp.hpp"

namespace energyhub::postgres {

std::pair<std::int64_t, std::int64_t> LocalDays::day_of(std::string_view user_id, std::int64_t ts_ms) {
    std::string key(user_id);
    if (auto it = cache_.find(key); it != cache_.end() && ts_ms >= it->second.first && ts_ms < it->second.second)
        return it->second;
    try {
        auto day = session_.run([&](pqxx::connection& conn) {
            pqxx::read_transaction tx(conn);
            auto r = tx.exec_params(
                "WITH u AS (SELECT coalesce((SELECT tz FROM users WHERE user_id = $1), 'UTC') AS tz), "
                "     d AS (SELECT date_trunc('day', to_timestamp($2 / 1000.0) AT TIME ZONE u.tz) AS day, u.tz FROM u) "
                "SELECT (extract(epoch FROM d.day AT TIME ZONE d.tz) * 1000)::bigint, "
                "       (extract(epoch FROM (d.day + interval '1 day') AT TIME ZONE d.tz) * 1000)::bigint FROM d",
                key, ts_ms);
            return std::pair<std::int64_t, std::int64_t>{r[0][0].as<std::int64_t>(), r[0][1].as<std::int64_t>()};
        });
        cache_[key] = day;
        return day;
    } catch (const StoreError&) {
        // Without the database, a UTC day is the best answer; it is not cached.
        auto start = day_start_ms(ts_ms);
        return {start, start + kMsPerDay};
    }
}

}  // namespace energyhub::postgres
