#include "util/duration.hpp"

#include <charconv>
#include <cstdint>
#include <limits>

namespace energyhub {

namespace {

// Splits "<digits><suffix>" without accepting signs, spaces or fractions.
bool split_number(std::string_view text, std::uint64_t& value, std::string_view& suffix) {
    auto first = text.data();
    auto last = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(first, last, value);
    if (ec != std::errc{} || ptr == first) return false;
    suffix = std::string_view(ptr, static_cast<std::size_t>(last - ptr));
    return true;
}

}  // namespace

std::optional<Millis> parse_duration(std::string_view text) {
    std::uint64_t n = 0;
    std::string_view unit;
    if (!split_number(text, n, unit)) return std::nullopt;
    std::uint64_t scale = 0;
    if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m") scale = 60'000;
    else if (unit == "h") scale = 3'600'000;
    else if (unit == "d") scale = 86'400'000;
    else return std::nullopt;
    if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / scale) return std::nullopt;
    return Millis(static_cast<std::int64_t>(n * scale));
}

std::optional<std::uint64_t> parse_byte_size(std::string_view text) {
    std::uint64_t n = 0;
    std::string_view unit;
    if (!split_number(text, n, unit)) return std::nullopt;
    std::uint64_t scale = 0;
    if (unit.empty() || unit == "B") scale = 1;
    else if (unit == "KB" || unit == "KiB") scale = 1ull << 10;
    else if (unit == "MB" || unit == "MiB") scale = 1ull << 20;
    else if (unit == "GB" || unit == "GiB") scale = 1ull << 30;
    else return std::nullopt;
    if (n > std::numeric_limits<std::uint64_t>::max() / scale) return std::nullopt;
    return n * scale;
}

std::string format_duration(Millis d) {
    auto ms = d.count();
    struct Unit { std::int64_t size; const char* name; };
    for (Unit u : {Unit{86'400'000, "d"}, Unit{3'600'000, "h"}, Unit{60'000, "m"}, Unit{1000, "s"}}) {
        if (ms != 0 && ms % u.size == 0) return std::to_string(ms / u.size) + u.name;
    }
    return std::to_string(ms) + "ms";
}

}  // namespace energyhub
