#pragma once
// A user's usage over the insight period, as read from the hourly rollup, and the aggregates
// computed from it. No I/O here: the repository fills UsageData, aggregate() does the rest.
//
// Periods are whole local days in the user's time zone, ending at the user's last midnight:
// "yesterday", the last 7 days (yesterday included) and the 7 days before those. An hour of the
// rollup (a UTC hour) belongs to the local day and local hour in which it starts.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/insights_config.hpp"

namespace energyhub::insights {

// The local hours whose minimum total use is the always-on base load: 00:00 to 05:00.
constexpr int kNightFirstHour = 0;
constexpr int kNightEndHour = 5;
// Devices listed one by one in the facts; the rest are summed as "others".
constexpr std::size_t kMaxDevicesInFacts = 10;

enum class Bucket { previous_week = 0, week = 1, yesterday = 2 };  // week: the last 7 days but yesterday

struct UsageRow {
    std::string device_id;
    Bucket bucket;
    int local_hour;  // 0..23
    double wh;       // summed over the bucket's days
};

struct DeviceInfo {
    std::string device_id;
    std::string name;
    std::string type;
};

struct UsageData {
    std::string user_id;
    std::string tz;
    std::string yesterday;   // local dates, "2026-11-27"
    std::string week_first;  // first day of the last 7 days
    std::int64_t previous_start_ms = 0;  // the 7 days before
    std::int64_t period_start_ms = 0;    // the last 7 days
    std::int64_t yesterday_start_ms = 0;
    std::int64_t period_end_ms = 0;      // the user's last local midnight
    std::vector<DeviceInfo> devices;     // registered devices and any with readings in the period
    std::vector<UsageRow> rows;
    std::optional<double> base_load_w;   // lowest total hourly use (Wh in one hour = mean W) at night
    std::map<std::string, double> night_min_w;  // per device, the same
};

struct DeviceAggregate {
    std::string device_id;
    std::string name;
    std::string type;
    double kwh_yesterday = 0;
    double kwh_week = 0;
    double kwh_previous = 0;
    std::optional<double> change_pct;  // week against previous week
    std::optional<double> night_min_w;
    double share_pct = 0;  // of the user's week
};

struct Aggregates {
    std::string user_id;
    std::string tz;
    std::string yesterday;
    std::string week_first;
    std::int64_t period_start_ms = 0;
    std::int64_t period_end_ms = 0;
    double kwh_yesterday = 0;
    double kwh_week = 0;
    double kwh_previous = 0;
    std::optional<double> change_pct;
    std::optional<int> peak_hour;  // local hour of day with the highest use over the week
    double peak_hour_kwh_per_day = 0;
    std::optional<double> base_load_w;
    std::optional<double> base_load_share_pct;  // of the week's use
    bool has_tariff = false;
    std::string currency;
    double cost_yesterday = 0;
    double cost_week = 0;
    double cost_previous = 0;
    double average_price = 0;  // cost_week / kwh_week, or the base price without use
    // The most expensive time-of-use band and the week's use inside it, if bands are configured.
    std::optional<TariffBand> peak_band;
    double peak_band_kwh_week = 0;
    double hourly_kwh_week[24] = {};
    std::vector<DeviceAggregate> devices;  // by kwh_week, largest first
};

Aggregates aggregate(const UsageData& data, const Tariff& tariff);

// Percent change from `before` to `after`; none when there was nothing before.
std::optional<double> change_percent(double before, double after);

// Rounds for storage and display (kWh to 3 decimals, W and percent to 1, money to 2).
double round_to(double value, int decimals);

}  // namespace energyhub::insights
