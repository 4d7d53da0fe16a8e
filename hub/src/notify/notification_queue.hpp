#pragma once
// The notifier's port to where alert transitions wait for their email: PostgreSQL in the daemon
// (postgres/alert_queue.hpp), a recording fake in the unit tests. The contract the notifier keeps:
// claim, then send, then exactly one of sent()/failed(), so an alert is marked only once its
// email went out, and a crash between the two sends it again (under the same Message-ID).
#include <string>
#include <vector>

#include "notify/alert_email.hpp"

namespace energyhub {

struct UserQueue {
    std::vector<PendingAlert> alerts;
    bool quiet = false;        // inside the user's quiet hours now
    int emails_last_hour = 0;  // for the per-user rate limit
};

class NotificationQueue {
public:
    virtual ~NotificationQueue() = default;

    // Alerts not yet emailed and due for an attempt, grouped by user. Throws StoreError when the store
    // cannot answer (so may the others).
    virtual std::vector<UserQueue> due() = 0;

    // Locks the alerts for sending; false if another notifier has them or they were sent.
    virtual bool claim(const std::vector<PendingAlert>& alerts) = 0;
    virtual void sent(const std::string& message_id) = 0;
    // retry: schedule another attempt (or give up after the budget); otherwise give up now.
    // Returns true when the alerts were given up.
    virtual bool failed(const std::string& error, bool retry) = 0;
};

}  // namespace energyhub
