#include "util/cron.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <limits>
#include <vector>

#include "util/timestamp.hpp"

namespace energyhub::insights {

namespace {

constexpr std::int64_t kDay = 86'400;
// Offsets are probed a day apart: no real zone changes its offset twice within one day.
constexpr std::int64_t kProbeStep = kDay;
constexpr std::int64_t kHorizon = 5 * 366 * kDay;

constexpr std::array<const char*, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                     "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<const char*, 7> kWeekdayNames = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct FieldSpec {
    const char* name;
    int min;
    int max;
    const char* const* names;  // optional symbolic values
    int name_count;
    int name_base;  // the value of names[0]
};

constexpr FieldSpec kMinute{"minute", 0, 59, nullptr, 0, 0};
constexpr FieldSpec kHour{"hour", 0, 23, nullptr, 0, 0};
constexpr FieldSpec kDayOfMonth{"day of month", 1, 31, nullptr, 0, 0};
constexpr FieldSpec kMonth{"month", 1, 12, kMonthNames.data(), 12, 1};
constexpr FieldSpec kDayOfWeek{"day of week", 0, 7, kWeekdayNames.data(), 7, 0};

bool iequals(std::string_view a, const char* b) {
    std::size_t i = 0;
    for (; i < a.size() && b[i]; ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
    return i == a.size() && !b[i];
}

[[noreturn]] void fail(const FieldSpec& f, std::string_view text, const std::string& problem) {
    throw CronError(std::string(f.name) + " field '" + std::string(text) + "': " + problem);
}

int parse_value(std::string_view s, const FieldSpec& f, std::string_view field_text) {
    if (s.empty()) fail(f, field_text, "missing value");
    int v = 0;
    if (std::isdigit(static_cast<unsigned char>(s.front()))) {
        auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || ptr != s.data() + s.size())
            fail(f, field_text, "'" + std::string(s) + "' is not a number");
    } else {
        int found = -1;
        for (int i = 0; i < f.name_count; ++i)
            if (iequals(s, f.names[i])) found = f.name_base + i;
        if (found < 0) fail(f, field_text, "'" + std::string(s) + "' is not a valid value");
        v = found;
    }
    if (v < f.min || v > f.max)
        fail(f, field_text,
             std::to_string(v) + " is out of range " + std::to_string(f.min) + "-" + std::to_string(f.max));
    return v;
}

// Bit i set for every value i the field allows.
std::uint64_t parse_field(std::string_view text, const FieldSpec& f) {
    if (text.empty()) fail(f, text, "empty");
    std::uint64_t mask = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto comma = text.find(',', pos);
        if (comma == std::string_view::npos) comma = text.size();
        std::string_view item = text.substr(pos, comma - pos);
        if (item.empty()) fail(f, text, "empty list item");
        int step = 1;
        bool has_step = false;
        if (auto slash = item.find('/'); slash != std::string_view::npos) {
            std::string_view step_text = item.substr(slash + 1);
            auto [ptr, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
            if (step_text.empty() || ec != std::errc{} || ptr != step_text.data() + step_text.size() || step < 1 ||
                step > f.max + 1)
                fail(f, text,
                     "step '" + std::string(step_text) + "' must be a number from 1 to " + std::to_string(f.max + 1));
            item = item.substr(0, slash);
            has_step = true;
        }
        int lo = f.min, hi = f.max;
        if (item == "*") {
            // the whole range
        } else if (auto dash = item.find('-'); dash != std::string_view::npos) {
            lo = parse_value(item.substr(0, dash), f, text);
            hi = parse_value(item.substr(dash + 1), f, text);
            if (lo > hi) fail(f, text, "range " + std::string(item) + " is reversed");
        } else {
            lo = parse_value(item, f, text);
            hi = has_step ? f.max : lo;  // "5/15" means 5-max/15, as in Vixie cron
        }
        for (int v = lo; v <= hi; v += step) mask |= std::uint64_t{1} << v;
        pos = comma + 1;
        if (comma == text.size()) break;
    }
    return mask;
}

int days_in_month_max(int month) {
    static constexpr int kDays[] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return kDays[month];
}

// A stretch of time over which the zone's offset is constant: [begin, end).
struct Span {
    std::int64_t begin;
    std::int64_t end;
    std::int64_t offset;
};

Span span_at(std::int64_t begin, const UtcOffsets& zone) {
    const std::int64_t offset = zone.offset_at(begin);
    const std::int64_t probe = begin + kProbeStep;
    if (zone.offset_at(probe) == offset) return {begin, probe, offset};
    std::int64_t lo = begin, hi = probe;  // offset(lo) == offset, offset(hi) != offset
    while (hi - lo > 1) {
        const std::int64_t mid = lo + (hi - lo) / 2;
        if (zone.offset_at(mid) == offset)
            lo = mid;
        else
            hi = mid;
    }
    return {begin, hi, offset};
}

}  // namespace

CronSchedule CronSchedule::parse(std::string_view expression) {
    std::string_view text = expression;
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    std::string expanded;
    if (!text.empty() && text.front() == '@') {
        static const std::pair<const char*, const char*> kShorthands[] = {
            {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
            {"@daily", "0 0 * * *"},  {"@midnight", "0 0 * * *"}, {"@hourly", "0 * * * *"}};
        for (const auto& [name, value] : kShorthands)
            if (iequals(text, name)) expanded = value;
        if (expanded.empty()) throw CronError("unknown shorthand '" + std::string(text) + "'");
    } else {
        expanded = std::string(text);
    }

    std::vector<std::string_view> fields;
    std::string_view rest = expanded;
    while (!rest.empty()) {
        while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front()))) rest.remove_prefix(1);
        if (rest.empty()) break;
        std::size_t n = 0;
        while (n < rest.size() && !std::isspace(static_cast<unsigned char>(rest[n]))) ++n;
        fields.push_back(rest.substr(0, n));
        rest.remove_prefix(n);
    }
    if (fields.size() != 5)
        throw CronError("needs 5 fields (minute hour day-of-month month day-of-week), found " +
                        std::to_string(fields.size()));

    CronSchedule c;
    c.text_ = std::string(text);
    c.minutes_ = std::bitset<60>(parse_field(fields[0], kMinute));
    c.hours_ = std::bitset<24>(parse_field(fields[1], kHour));
    c.days_ = std::bitset<32>(parse_field(fields[2], kDayOfMonth));
    c.months_ = std::bitset<13>(parse_field(fields[3], kMonth));
    std::uint64_t weekdays = parse_field(fields[4], kDayOfWeek);
    if (weekdays & (std::uint64_t{1} << 7)) weekdays = (weekdays | 1) & 0x7f;  // 7 is Sunday too
    c.weekdays_ = std::bitset<7>(weekdays);
    c.any_day_ = fields[2].front() == '*';
    c.any_weekday_ = fields[4].front() == '*';
    c.wall_clock_ = fields[0].front() == '*' || fields[1].front() == '*';

    // With both day fields restricted either may match, so some day always does. Otherwise the
    // day of month must exist in one of the months.
    if (c.any_day_ || c.any_weekday_) {
        bool possible = false;
        for (int m = 1; m <= 12 && !possible; ++m)
            for (int d = 1; d <= days_in_month_max(m) && !possible; ++d) possible = c.months_[m] && c.days_[d];
        if (!possible) throw CronError("day of month and month never match (e.g. 30 2 for February 30)");
    }
    return c;
}

bool CronSchedule::day_matches(std::int64_t days_since_epoch) const {
    const CivilDate date = civil_from_days(days_since_epoch);
    if (!months_[date.month]) return false;
    const auto weekday = static_cast<std::size_t>(((days_since_epoch + 4) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
    const bool day_ok = days_[date.day];
    const bool weekday_ok = weekdays_[weekday];
    if (any_day_ || any_weekday_) return day_ok && weekday_ok;
    return day_ok || weekday_ok;
}

bool CronSchedule::matches_local(std::int64_t local_seconds) const {
    const std::int64_t day = floor_div(local_seconds, kDay);
    const std::int64_t second_of_day = local_seconds - day * kDay;
    return day_matches(day) && hours_[static_cast<std::size_t>(second_of_day / 3600)] &&
           minutes_[static_cast<std::size_t>(second_of_day % 3600 / 60)];
}

std::optional<std::int64_t> CronSchedule::first_local_match(std::int64_t from_local, std::int64_t until_local) const {
    std::int64_t m = floor_div(from_local + 59, 60) * 60;
    while (m < until_local) {
        const std::int64_t day = floor_div(m, kDay);
        const std::int64_t second_of_day = m - day * kDay;
        const CivilDate date = civil_from_days(day);
        if (!months_[date.month]) {
            const bool december = date.month == 12;
            m = days_from_civil(december ? date.year + 1 : date.year, december ? 1 : date.month + 1, 1) * kDay;
            continue;
        }
        if (!day_matches(day)) {
            m = (day + 1) * kDay;
            continue;
        }
        const auto hour = static_cast<std::size_t>(second_of_day / 3600);
        if (!hours_[hour]) {
            m = day * kDay + static_cast<std::int64_t>(hour + 1) * 3600;
            continue;
        }
        if (!minutes_[static_cast<std::size_t>(second_of_day % 3600 / 60)]) {
            m += 60;
            continue;
        }
        return m;
    }
    return std::nullopt;
}

std::optional<std::int64_t> CronSchedule::next_after(std::int64_t utc_seconds, const UtcOffsets& zone) const {
    const std::int64_t start = utc_seconds + 1;
    const std::int64_t horizon = start + kHorizon;
    if (wall_clock_) {
        for (std::int64_t at = start; at < horizon;) {
            const Span s = span_at(at, zone);
            if (auto m = first_local_match(s.begin + s.offset, s.end + s.offset)) return *m - s.offset;
            at = s.end;
        }
        return std::nullopt;
    }
    // Fixed times: `reached` is the end of the local times the clock has shown so far. After a
    // fall-back change it stays ahead of the clock until the repeated hour has passed, so those
    // times do not run twice.
    std::int64_t reached = std::numeric_limits<std::int64_t>::min();
    for (std::int64_t at = start - 2 * kDay; at < start;) {
        const Span s = span_at(at, zone);
        reached = std::max(reached, std::min(s.end, start) + s.offset);
        at = s.end;
    }
    for (std::int64_t at = start; at < horizon;) {
        const Span s = span_at(at, zone);
        const std::int64_t lo = s.begin + s.offset;
        const std::int64_t hi = s.end + s.offset;
        // Local times [reached, lo) were skipped by a spring-forward change at s.begin.
        if (lo > reached && first_local_match(reached, lo)) return s.begin;
        if (auto m = first_local_match(std::max(lo, reached), hi)) return *m - s.offset;
        reached = std::max(reached, hi);
        at = s.end;
    }
    return std::nullopt;
}

std::optional<std::int64_t> CronSchedule::latest_in(std::int64_t after_utc, std::int64_t at_utc,
                                                    const UtcOffsets& zone) const {
    if (at_utc <= after_utc) return std::nullopt;
    // Search growing windows back from `at`, so a frequent schedule long overdue costs little.
    static constexpr std::int64_t kWindows[] = {3600, kDay, 8 * kDay, 32 * kDay, 367 * kDay, kHorizon};
    for (std::int64_t window : kWindows) {
        const std::int64_t from = std::max(after_utc, at_utc - window);
        std::optional<std::int64_t> last;
        for (auto run = next_after(from, zone); run && *run <= at_utc; run = next_after(*run, zone)) last = run;
        if (last) return last;
        if (from == after_utc) return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace energyhub::insights
