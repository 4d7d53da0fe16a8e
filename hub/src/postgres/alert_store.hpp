#pragma once
// Alert transitions in PostgreSQL: written with the readings that caused them, read back on start
// so the rule engine knows what is still firing.
#include <span>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "domain/alert.hpp"

namespace energyhub::postgres {

// Inserts the transitions; returns the indexes of those that were new (not stored before).
std::vector<std::size_t> insert_alerts(pqxx::work& tx, std::span<const Alert> alerts);

// An alert from columns id, user_id, device_id, rule, state, value, threshold, since and ts (epoch
// ms), message, in that order. A rule name this build does not know reads as power_above.
Alert alert_from_row(const pqxx::row& r);

// Alerts whose latest transition per device and rule is "firing".
std::vector<Alert> firing_alerts(pqxx::connection& conn);

struct SeenDevice {
    std::string device_id;
    std::string user_id;
    std::string type;
    std::int64_t last_seen_ms;
};
// Registered devices with a reading in the last `days` days, and when they were last seen.
std::vector<SeenDevice> recently_seen_devices(pqxx::connection& conn, int days);

}  // namespace energyhub::postgres
