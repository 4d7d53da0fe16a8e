#pragma once
// Users' local calendar days from PostgreSQL's time zone database (GCC 12's standard library has
// none). One query per user per day; a day boundary is cached until it is passed.
#include <string>
#include <unordered_map>

#include "pipeline/rule_engine.hpp"
#include "postgres/session.hpp"

namespace energyhub::postgres {

class LocalDays final : public LocalDayPort {
public:
    explicit LocalDays(Session& session) : session_(session) {}
    std::pair<std::int64_t, std::int64_t> day_of(std::string_view user_id, std::int64_t ts_ms) override;

private:
    Session& session_;
    std::unordered_map<std::string, std::pair<std::int64_t, std::int64_t>> cache_;
};

}  // namespace energyhub::postgres
