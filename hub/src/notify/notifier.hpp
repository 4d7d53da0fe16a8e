#pragma once
// One pass over the alerts that are due: per user, respecting quiet hours and the hourly limit,
// one email per alert or one digest, each claimed in the database before it is sent and marked
// after, so no alert transition is emailed twice, also across restarts and by several notifiers.
#include <atomic>
#include <cstdint>

#include "config/config.hpp"
#include "notify/mail_port.hpp"
#include "notify/notification_queue.hpp"

namespace energyhub {

struct NotifierMetrics {
    std::atomic<std::uint64_t> emails_sent{0};
    std::atomic<std::uint64_t> emails_failed{0};  // attempts that did not go out
    std::atomic<std::uint64_t> alerts_given_up{0};
    std::atomic<std::uint64_t> alerts_notified{0};
    std::atomic<bool> smtp_up{true};  // the last attempt reached the server (or none was made yet)
    std::atomic<bool> postgres_up{false};
    std::atomic<std::int64_t> heartbeat_ms{0};
};

class Notifier {
public:
    Notifier(const Config& config, NotificationQueue& queue, Mailer& mailer, NotifierMetrics& metrics)
        : config_(config), queue_(queue), mailer_(mailer), metrics_(metrics) {}

    // Throws when the queue's store is unreachable.
    void run_once();

private:
    void deliver(const std::vector<PendingAlert>& alerts, const Email& email);

    const Config& config_;
    NotificationQueue& queue_;
    Mailer& mailer_;
    NotifierMetrics& metrics_;
};

}  // namespace energyhub
