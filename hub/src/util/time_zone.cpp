#include "util/time_zone.hpp"

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <stdexcept>

namespace energyhub {

std::int64_t ProcessTimeZone::offset_at(std::int64_t utc_seconds) const {
    const auto t = static_cast<std::time_t>(utc_seconds);
    std::tm local{};
    if (!localtime_r(&t, &local)) return 0;
    return local.tm_gmtoff;
}

bool time_zone_exists(const std::string& name) {
    if (name.empty() || name.size() > 128 || name.front() == '/' || name.find("..") != std::string::npos) return false;
    for (char c : name) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' ||
                        c == '_' || c == '-' || c == '+';
        if (!ok) return false;
    }
    const char* dir = std::getenv("TZDIR");
    const std::string base = dir && *dir ? dir : "/usr/share/zoneinfo";
    std::ifstream in(base + "/" + name, std::ios::binary);
    char magic[4] = {};
    if (!in.read(magic, sizeof magic)) return false;  // also false for a directory such as "Europe"
    return magic[0] == 'T' && magic[1] == 'Z' && magic[2] == 'i' && magic[3] == 'f';
}

void set_process_time_zone(const std::string& name) {
    if (!time_zone_exists(name)) throw std::invalid_argument("unknown time zone '" + name + "'");
    // The leading colon asks glibc for the tzdata file of that name, never a POSIX rule string.
    ::setenv("TZ", (":" + name).c_str(), 1);
    ::tzset();
}

}  // namespace energyhub
