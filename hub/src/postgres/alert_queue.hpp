#pragma once
// The notifier's view of the alerts table: what is due, and what happened to each email.
// Rows are locked while their email is being sent, so two notifiers never send the same alert.
#include <string>
#include <vector>

#include "config/config.hpp"
#include "notify/alert_email.hpp"
#include "postgres/session.hpp"

namespace energyhub::postgres {

struct UserQueue {
    std::vector<PendingAlert> alerts;
    bool quiet = false;           // inside the user's quiet hours now
    int emails_last_hour = 0;     // for the per-user rate limit
};

class AlertQueue {
public:
    AlertQueue(Session& session, const NotifierConfig& config) : session_(session), config_(config) {}

    // Alerts not yet emailed and due for an attempt, grouped by user. Throws pqxx exceptions.
    std::vector<UserQueue> due();

    // Locks the alerts for sending; returns false if another notifier has them or they were sent.
    // Then exactly one of sent()/failed() must follow, which commits.
    bool claim(const std::vector<PendingAlert>& alerts);
    void sent(const std::string& message_id);
    // retry: schedule another attempt (or give up after the budget); otherwise give up now.
    // Returns true when the alerts were given up.
    bool failed(const std::string& error, bool retry);

private:
    Session& session_;
    const NotifierConfig& config_;
    std::unique_ptr<pqxx::work> claim_;
    std::vector<std::string> claimed_ids_;
};

}  // namespace energyhub::postgres
