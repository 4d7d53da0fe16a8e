#pragma once
// A user's usage over the insight period, as read from the hourly rollup, and the aggregates
// computed from it. No I/O here: the repository fills UsageData, aggregate() does the rest.
//
// Periods are whole local days in the user's time zone, ending at the user's last midnight:
// "yesterday", the last 7 days (yesterday included) and the 7 days before those. An hour of the
// rollup (a UTC hour) belongs to the local day and local hour in which it starts.
//
// Meters count by their role, the device type (DESIGN: as evcc names meter usages): a "grid"
// meter measures the house's connection (import from the grid, export returned to it), a "pv"
// meter the solar production, anything else is a load. With a grid meter the household's use is
// what it imports plus what it used of its own production (self-consumption = production minus
// export), and the base load, peak hour and cost follow the grid meter; without one they are the
// sum of the loads. Meters are not listed among the devices, nor are their phases; a device that
// reports its own totals is counted by them, not again through its channels.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
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
    int local_hour;        // 0..23
    double wh;             // import (use) summed over the bucket's days
    double export_wh = 0;  // export, the same way
};

// One device's use in one night hour of the last 7 days (local kNightFirstHour..kNightEndHour).
struct NightRow {
    std::string device_id;
    std::int64_t hour_ms = 0;
    double wh = 0;  // Wh in one hour: the mean W
};

enum class MeterRole { load, grid, pv };
MeterRole meter_role(std::string_view device_type);

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
    std::vector<NightRow> night;         // for the base load: the lowest hourly total at night
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

// kWh yesterday, in the last 7 days (yesterday included) and in the 7 days before.
struct PeriodKwh {
    double yesterday = 0, week = 0, previous = 0;
    void add(Bucket b, double kwh);
};

// What the grid meter (and a solar meter) measured, when the user has one.
struct GridAggregate {
    PeriodKwh imported, exported;
    bool has_pv = false;
    PeriodKwh produced;
    double self_consumption_week = 0;             // production used at home: production - export
    std::optional<double> self_consumption_pct;  // of the week's production
};

struct Aggregates {
    std::string user_id;
    std::string tz;
    std::string yesterday;
    std::string week_first;
    std::int64_t period_start_ms = 0;
    std::int64_t period_end_ms = 0;
    double kwh_yesterday = 0;  // the household's use (see above)
    double kwh_week = 0;
    double kwh_previous = 0;
    std::optional<double> change_pct;
    std::optional<GridAggregate> grid;  // with a grid or solar meter, or any export
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
    std::vector<DeviceAggregate> devices;  // loads, by kwh_week, largest first
};

Aggregates aggregate(const UsageData& data, const Tariff& tariff);

// Percent change from `before` to `after`; none when there was nothing before.
std::optional<double> change_percent(double before, double after);

// Rounds for storage and display (kWh to 3 decimals, W and percent to 1, money to 2).
double round_to(double value, int decimals);

}  // namespace energyhub::insights
