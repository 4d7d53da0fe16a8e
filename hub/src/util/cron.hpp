#pragma once
// Standard 5-field cron expressions ("minute hour day-of-month month day-of-week") evaluated in a
// time zone, for the insights schedule.
//
// Syntax: numbers, ranges a-b, steps */n a-b/n a/n, lists, month names jan..dec, weekday names
// sun..sat (0 and 7 are Sunday), and the shorthands @yearly @annually @monthly @weekly @daily
// @midnight @hourly. As in Vixie cron, when both day fields are restricted a day matches if
// either does.
//
// Daylight-saving changes follow cronie's rules:
//  * A job at a fixed time (no '*' at the start of the minute or hour field, e.g. "30 2 * * *")
//    runs once per matching local time: a time skipped by a spring-forward change runs at the
//    change itself, and a time repeated by a fall-back change runs at its first occurrence only.
//  * A job with '*' at the start of the minute or hour field ("*/15 * * * *", "0 * * * *") runs by
//    the wall clock: skipped times do not run, repeated times run again.
#include <bitset>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "util/time_zone.hpp"

namespace energyhub::insights {

class CronError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class CronSchedule {
public:
    // Throws CronError naming the field at fault.
    static CronSchedule parse(std::string_view expression);

    // Does this local wall-clock minute (seconds since 1970-01-01 00:00 local) match?
    bool matches_local(std::int64_t local_seconds) const;

    // The first run strictly after `utc_seconds`; nullopt if there is none in the next 5 years.
    std::optional<std::int64_t> next_after(std::int64_t utc_seconds, const UtcOffsets& zone) const;

    // The last run in (after_utc, at_utc]; nullopt if there is none.
    std::optional<std::int64_t> latest_in(std::int64_t after_utc, std::int64_t at_utc, const UtcOffsets& zone) const;

    const std::string& text() const { return text_; }
    bool wall_clock() const { return wall_clock_; }

private:
    std::optional<std::int64_t> first_local_match(std::int64_t from_local, std::int64_t until_local) const;
    bool day_matches(std::int64_t days_since_epoch) const;

    std::string text_;
    std::bitset<60> minutes_;
    std::bitset<24> hours_;
    std::bitset<32> days_;     // 1..31
    std::bitset<13> months_;   // 1..12
    std::bitset<7> weekdays_;  // 0 = Sunday
    bool any_day_ = true;      // day-of-month field was '*'
    bool any_weekday_ = true;  // day-of-week field was '*'
    bool wall_clock_ = false;
};

}  // namespace energyhub::insights
