#pragma once
// The read-only queries behind the hub's dashboard and JSON API. HTTP handlers run on the server's
// threads while a libpq connection is not thread-safe: one session, used under a mutex, reopened
// after a failure. Every query is a short read-only transaction.
#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "postgres/session.hpp"

namespace energyhub::postgres {

struct DeviceView {
    std::string device_id;  // the device, or one of its channels "<device>:<n>"
    std::string parent_id;  // the registered device
    std::string user_id;
    std::string name;
    std::string type;
    std::optional<std::int64_t> last_ts_ms;  // the latest reading in the last two days
    std::optional<double> power_w, energy_wh, energy_export_wh, voltage_v, current_a;
    double today_wh = 0;         // import since midnight in the owner's time zone
    double today_export_wh = 0;  // export since then
};

struct HourView {
    std::int64_t hour_ms = 0;
    std::int64_t samples = 0;
    std::int64_t power_samples = 0;
    double power_sum = 0;
    std::optional<double> power_max, power_min;
    double energy_wh = 0;  // import
    double export_wh = 0;
};

// One local day of a device's use, in its owner's time zone.
struct DayView {
    std::string day;  // "2026-11-23"
    double energy_wh = 0;
    double export_wh = 0;
    std::array<double, 24> energy_by_hour_wh{};  // import per local hour, for time-of-use prices
};

struct AlertView {
    std::string id, user_id, device_id, rule, state, message;
    double value = 0, threshold = 0;
    std::int64_t since_ms = 0, ts_ms = 0;
};

struct InsightView {
    std::int64_t id = 0;
    std::string user_id, source, summary, trigger;
    std::string recommendations_json;  // a JSON array as stored
    std::optional<std::string> device_id;
    std::int64_t created_ms = 0, period_start_ms = 0, period_end_ms = 0;
};

class DashboardQueries {
public:
    explicit DashboardQueries(std::string dsn) : session_(std::move(dsn)) {}

    // Registered devices and the channels that reported in the last two days; `user` empty: all.
    std::vector<DeviceView> devices(const std::string& user, std::size_t limit);

    // Hourly rollup rows of a (sub-)device since `since_ms`; nullopt if its device is not registered.
    std::optional<std::vector<HourView>> usage(const std::string& device_id, std::int64_t since_ms);

    // The last `days` local days of a (sub-)device, today included, each present (zero when
    // nothing was used); nullopt if its device is not registered.
    std::optional<std::vector<DayView>> daily(const std::string& device_id, int days);

    // Alerts whose latest transition is "firing"; `user` empty: all.
    std::vector<AlertView> open_alerts(const std::string& user, std::size_t limit);

    // The user's latest insights, newest first; empty when there are none or no insights table.
    std::vector<InsightView> insights(const std::string& user, std::size_t limit);

private:
    template <typename F>
    auto with_connection(F f);

    std::mutex mutex_;
    Session session_;
};

}  // namespace energyhub::postgres
