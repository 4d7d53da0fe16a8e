#pragma once
// The notifier's view of the alerts table: what is due, and what happened to each email.
// Rows are locked while their email is being sent, so two notifiers never send the same alert.
#include <string>
#include <vector>

#include "config/config.hpp"
#include "notify/notification_queue.hpp"
#include "postgres/session.hpp"

namespace energyhub::postgres {

class AlertQueue final : public NotificationQueue {
public:
    AlertQueue(Session& session, const NotifierConfig& config) : session_(session), config_(config) {}

    std::vector<UserQueue> due() override;  // failures are StoreErrors, as for every method
    // The claim holds a transaction with the rows locked; sent()/failed() commit it.
    bool claim(const std::vector<PendingAlert>& alerts) override;
    void sent(const std::string& message_id) override;
    bool failed(const std::string& error, bool retry) override;

private:
    template <typename F>
    auto guarded(F&& f);

    Session& session_;
    const NotifierConfig& config_;
    std::unique_ptr<pqxx::work> claim_;
    std::vector<std::string> claimed_ids_;
};

}  // namespace energyhub::postgres
