#pragma once
// Turns pending alerts into emails people can act on: one email per alert, or one digest when
// several are waiting for the same person.
#include <string>
#include <vector>

#include "domain/alert.hpp"
#include "notify/mail_port.hpp"

namespace energyhub {

// An alert as the notifier sees it: joined with its owner and device, times in the owner's zone.
struct PendingAlert {
    Alert alert;
    std::string email;
    std::string user_name;
    std::string time_zone;
    std::string device_name;
    std::string since_local;  // "2026-11-28 10:00"
    std::string ts_local;
};

Email render_alert_email(const PendingAlert& pending, const std::string& from);
Email render_digest_email(const std::vector<PendingAlert>& pending, const std::string& from);

}  // namespace energyhub
