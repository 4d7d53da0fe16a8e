#pragma once
// Local time for schedules. GCC 12's libstdc++ has no std::chrono::tzdb, so the offset of a zone
// comes from the C library: the process's zone is set once (TZ, then tzset) before any thread
// starts, and localtime_r reports the UTC offset in force at an instant (tm_gmtoff).
//
// Why the C library rather than a zone library: glibc reads the system's tzdata files including
// their POSIX rule footer, so offsets stay right after the last transition written in the file
// (Debian's files list transitions only up to 2037, and "slim" files far fewer); it needs no
// extra package and is what every other program on the machine uses. The cost is that it knows
// one zone per process: the insights daemon uses it for its schedule only, and anything per user
// (the user's days) is converted by PostgreSQL, which has its own copy of the rules.
#include <cstdint>
#include <string>

namespace energyhub {

// The UTC offset of a zone at a given instant, both in seconds.
class UtcOffsets {
public:
    virtual ~UtcOffsets() = default;
    virtual std::int64_t offset_at(std::int64_t utc_seconds) const = 0;
};

// A fixed offset (UTC, or a test's synthetic zone).
class FixedOffset final : public UtcOffsets {
public:
    explicit FixedOffset(std::int64_t seconds = 0) : seconds_(seconds) {}
    std::int64_t offset_at(std::int64_t) const override { return seconds_; }

private:
    std::int64_t seconds_;
};

// The process's zone, as set by set_process_time_zone (or the environment).
class ProcessTimeZone final : public UtcOffsets {
public:
    std::int64_t offset_at(std::int64_t utc_seconds) const override;
};

// True if `name` is an IANA zone name with a tzdata file on this machine ("UTC",
// "Europe/Berlin"). glibc silently treats an unknown TZ as UTC, so names are checked first.
bool time_zone_exists(const std::string& name);

// Makes `name` the zone of the process. Call before starting threads. Throws
// std::invalid_argument for a zone that does not exist.
void set_process_time_zone(const std::string& name);

}  // namespace energyhub
