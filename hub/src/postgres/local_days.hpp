#pragma once
// Local calendar days from PostgreSQL's time zone database (GCC 12's standard library has none).
// One query per zone per day, however many users and devices share the zone: a day's bounds are
// kept until a reading falls outside them.
#include <cstdint>
#include <string>
#include <unordered_map>

#include "pipeline/rule_engine.hpp"
#include "postgres/session.hpp"

namespace energyhub::postgres {

class LocalDays final : public LocalDayPort {
public:
    explicit LocalDays(Session& session) : session_(session) {}
    std::pair<std::int64_t, std::int64_t> day_of(std::string_view time_zone, std::int64_t ts_ms) override;

    // Questions PostgreSQL was asked (energyhub_local_day_queries_total).
    std::uint64_t queries() const { return queries_; }

private:
    Session& session_;
    std::unordered_map<std::string, std::pair<std::int64_t, std::int64_t>> days_;  // zone -> current day
    std::uint64_t queries_ = 0;
};

}  // namespace energyhub::postgres
