#include "postgres/partitions.hpp"

#include <cstdio>

#include "util/timestamp.hpp"

namespace energyhub::postgres {

std::string partition_name(std::int64_t ms) {
    auto d = civil_from_days(day_start_ms(ms) / kMsPerDay);
    char name[32];
    std::snprintf(name, sizeof name, "readings_p%04lld%02u%02u", static_cast<long long>(d.year), d.month, d.day);
    return name;
}

void PartitionManager::ensure(pqxx::connection& conn, const std::set<std::int64_t>& day_starts) {
    for (auto day : day_starts) {
        if (known_.count(day)) continue;
        char from[kTimestampBufferSize], to[kTimestampBufferSize];
        from[format_timestamp(day, from)] = '\0';
        to[format_timestamp(day + kMsPerDay, to)] = '\0';
        // Identifiers cannot be parameters; the name is built from digits only.
        std::string sql = "CREATE TABLE IF NOT EXISTS " + partition_name(day) + " PARTITION OF readings FOR VALUES FROM ('" +
                          from + "') TO ('" + to + "')";
        for (int attempt = 0;; ++attempt) {
            try {
                pqxx::work tx(conn);
                tx.exec(sql);
                tx.commit();
                break;
            } catch (const pqxx::sql_error&) {
                if (attempt >= 2) throw;  // lost a creation race with another hub: the retry sees it exists
            }
        }
        known_.insert(day);
    }
}

std::vector<std::string> PartitionManager::maintain(pqxx::connection& conn, std::int64_t now_ms, int ahead,
                                                    int retention_days) {
    std::set<std::int64_t> days;
    auto today = day_start_ms(now_ms);
    for (int i = 0; i <= ahead; ++i) days.insert(today + i * kMsPerDay);
    ensure(conn, days);

    std::vector<std::string> dropped;
    auto oldest_kept = partition_name(today - static_cast<std::int64_t>(retention_days) * kMsPerDay);
    pqxx::work tx(conn);
    auto rows = tx.exec(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'readings'::regclass ORDER BY 1");
    for (const auto& row : rows) {
        auto name = row[0].as<std::string>();
        // Names sort by date, so a plain comparison finds the expired ones.
        if (name.size() == oldest_kept.size() && name < oldest_kept) {
            tx.exec("DROP TABLE " + tx.quote_name(name));
            dropped.push_back(name);
        }
    }
    tx.commit();
    known_.clear();  // dropped ones are gone; the rest are re-checked cheaply on demand
    ensure(conn, days);
    return dropped;
}

}  // namespace energyhub::postgres
