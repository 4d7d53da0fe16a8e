#include "notify/notifier.hpp"

#include <spdlog/spdlog.h>

namespace energyhub {

namespace {
std::shared_ptr<spdlog::logger> notifier_log() { return spdlog::get("notifier"); }
}  // namespace

void Notifier::run_once() {
    for (auto& user : queue_.due()) {
        if (user.quiet) continue;  // held until the quiet hours end, then sent as a digest
        const int allowance = config_.notifier.emails_per_hour - user.emails_last_hour;
        if (allowance <= 0) continue;  // held until the hour has room
        const auto n = static_cast<int>(user.alerts.size());
        if (n >= config_.notifier.digest_after || n > allowance) {
            deliver(user.alerts, render_digest_email(user.alerts, config_.smtp.from));
        } else {
            for (const auto& p : user.alerts) deliver({p}, render_alert_email(p, config_.smtp.from));
        }
    }
}

void Notifier::deliver(const std::vector<PendingAlert>& alerts, const Email& email) {
    if (!queue_.claim(alerts)) return;  // another notifier has them
    auto result = mailer_.send(email);
    // A refusal is an answer: the server is up. Only "could not deliver, try again" counts as down.
    metrics_.smtp_up = result.status != SendResult::Status::retry;
    if (result.status == SendResult::Status::sent) {
        queue_.sent(email.message_id);
        ++metrics_.emails_sent;
        metrics_.alerts_notified += alerts.size();
        notifier_log()->info("emailed {} alert(s) to {} ({})", alerts.size(), email.to, email.message_id);
        return;
    }
    ++metrics_.emails_failed;
    if (queue_.failed(result.error, result.status == SendResult::Status::retry)) {
        metrics_.alerts_given_up += alerts.size();
        notifier_log()->error("email to {} not sent, giving up: {}", email.to, result.error);
    } else {
        notifier_log()->warn("email to {} not sent, will retry: {}", email.to, result.error);
    }
}

}  // namespace energyhub
