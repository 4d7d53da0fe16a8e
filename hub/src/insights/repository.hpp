#pragma once
// What the insight scheduler needs from storage (PostgreSQL in production: postgres/
// insight_repository), and the insight it produces.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/alert.hpp"
#include "insights/advice.hpp"
#include "insights/usage.hpp"

namespace energyhub::insights {

struct Insight {
    std::int64_t id = 0;
    std::string user_id;
    std::int64_t period_start_ms = 0;
    std::int64_t period_end_ms = 0;
    std::string trigger = "schedule";  // schedule | alert
    std::string device_id;             // the alert's device, for trigger "alert"
    std::string alert_id;
    Advice advice;
    nlohmann::json facts;
    std::int64_t created_ms = 0;
};

// The retained insights/<user_id> payload.
nlohmann::json insight_message(const Insight& insight);

// Failures are StoreErrors (the database is unreachable or refuses): the caller retries later.
class InsightRepository {
public:
    virtual ~InsightRepository() = default;

    // Every user id, or just `only` if that user exists (empty if not).
    virtual std::vector<std::string> users(const std::string& only) = 0;
    // The user's rollup over the 14 local days before the local day of `now_ms`.
    virtual UsageData usage(const std::string& user_id, std::int64_t now_ms) = 0;
    // The user's alert transitions in [from_ms, to_ms], newest first.
    virtual std::vector<Alert> alerts(const std::string& user_id, std::int64_t from_ms, std::int64_t to_ms,
                                      std::size_t limit) = 0;
    // Stores the insight; sets its id and created_ms.
    virtual void store(Insight& insight) = 0;
    // The newest insight of each user whose id sorts after `after_user`, in user id order, at most
    // `limit` of them: the daemon pages through all users with it.
    virtual std::vector<Insight> latest(const std::string& after_user, std::size_t limit) = 0;
    // Takes one of the `per_day` on-demand insights of the alert's device for the user's local day
    // of `now_ms`; false when all are taken (or the user is unknown).
    virtual bool claim_on_demand(const Alert& alert, int per_day, std::int64_t now_ms) = 0;

    // The schedule's last run slot (Unix seconds); nullopt before the first start.
    virtual std::optional<std::int64_t> last_slot(const std::string& schedule) = 0;
    // Records `slot` as the last one if there is none yet.
    virtual void init_slot(const std::string& schedule, std::int64_t slot) = 0;
    // Moves the last slot forward to `slot`; false if it is already there or beyond (another
    // scheduler ran it), so each slot runs once however many schedulers share the database.
    virtual bool claim_slot(const std::string& schedule, std::int64_t slot) = 0;
    // Drops old rate-limit entries.
    virtual void prune(std::int64_t now_ms) = 0;
};

}  // namespace energyhub::insights
