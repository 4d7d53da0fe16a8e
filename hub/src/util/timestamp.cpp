#include "util/timestamp.hpp"

#include <cstdio>

namespace energyhub {

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, unsigned& out) {
    if (pos + n > s.size()) return false;
    unsigned v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        char c = s[pos + i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    out = v;
    return true;
}

constexpr bool is_leap(unsigned y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

constexpr unsigned days_in_month(unsigned y, unsigned m) {
    constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

}  // namespace

std::optional<std::int64_t> parse_iso8601_ms(std::string_view s) {
    unsigned year, month, day, hour, minute, second;
    if (!digits(s, 0, 4, year) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' ||
        !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, hour) ||
        s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second))
        return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 ||
        second > 59)
        return std::nullopt;
    std::size_t pos = 19;
    std::int64_t millis = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        std::size_t start = pos;
        std::int64_t scale = 100;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            millis += (s[pos] - '0') * scale;  // digits past milliseconds are truncated
            scale /= 10;
            ++pos;
        }
        if (pos == start || pos - start > 9) return std::nullopt;
    }
    if (pos >= s.size()) return std::nullopt;  // a zone is required
    std::int64_t offset_min = 0;
    if (s[pos] == 'Z' || s[pos] == 'z') {
        ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
        unsigned oh, om;
        if (!digits(s, pos + 1, 2, oh) || s.size() < pos + 6 || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om) ||
            oh > 23 || om > 59)
            return std::nullopt;
        offset_min = static_cast<std::int64_t>(oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) return std::nullopt;
    std::int64_t days = days_from_civil(year, month, day);
    std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_min * 60;
    return secs * 1000 + millis;
}

// Once per stored reading: digits written by hand (snprintf's format parsing was a few percent of
// the worker's time).
std::size_t format_timestamp(std::int64_t ms, char* out) {
    std::int64_t day = day_start_ms(ms);
    auto date = civil_from_days(day / kMsPerDay);
    auto in_day = ms - day;
    auto h = in_day / 3'600'000, m = in_day / 60'000 % 60, sec = in_day / 1000 % 60, milli = in_day % 1000;
    if (date.year < 0 || date.year > 9999) {
        int n = std::snprintf(out, kTimestampBufferSize, "%04lld-%02u-%02u %02lld:%02lld:%02lld.%03lld+00",
                              static_cast<long long>(date.year), date.month, date.day, static_cast<long long>(h),
                              static_cast<long long>(m), static_cast<long long>(sec), static_cast<long long>(milli));
        return n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    char* p = out;
    auto put = [&p](std::int64_t value, int width, char after) {
        for (int i = width - 1; i >= 0; --i, value /= 10) p[i] = static_cast<char>('0' + value % 10);
        p += width;
        if (after) *p++ = after;
    };
    put(date.year, 4, '-');
    put(date.month, 2, '-');
    put(date.day, 2, ' ');
    put(h, 2, ':');
    put(m, 2, ':');
    put(sec, 2, '.');
    put(milli, 3, '+');
    put(0, 2, 0);
    *p = '\0';
    return static_cast<std::size_t>(p - out);
}

std::string format_iso8601(std::int64_t ms) {
    char buf[kTimestampBufferSize];
    std::size_t n = format_timestamp(ms, buf);
    std::string s(buf, n >= 3 ? n - 3 : n);  // drop "+00"
    if (s.size() > 10) s[10] = 'T';
    s += 'Z';
    return s;
}

}  // namespace energyhub
