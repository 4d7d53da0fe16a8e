#pragma once
// The insight scheduler's storage in PostgreSQL. Aggregates come from the hourly rollup
// (readings_hourly), never from raw readings; local days come from PostgreSQL's time zone rules
// and each user's `tz`.
#include "insights/repository.hpp"
#include "postgres/session.hpp"

namespace energyhub::postgres {

class InsightRepository final : public insights::InsightRepository {
public:
    explicit InsightRepository(Session& session) : session_(session) {}

    std::vector<std::string> users(const std::string& only) override;
    insights::UsageData usage(const std::string& user_id, std::int64_t now_ms) override;
    std::vector<Alert> alerts(const std::string& user_id, std::int64_t from_ms, std::int64_t to_ms, std::size_t limit) override;
    void store(insights::Insight& insight) override;
    std::vector<insights::Insight> latest(const std::string& after_user, std::size_t limit) override;
    bool claim_on_demand(const Alert& alert, int per_day, std::int64_t now_ms) override;
    std::optional<std::int64_t> last_slot(const std::string& schedule) override;
    void init_slot(const std::string& schedule, std::int64_t slot) override;
    bool claim_slot(const std::string& schedule, std::int64_t slot) override;
    void prune(std::int64_t now_ms) override;

private:
    Session& session_;
};

}  // namespace energyhub::postgres
