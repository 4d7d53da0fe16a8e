// insights.schedule: the cron parser as the config loader calls it (a refused expression is a
// CronError), then the runs the scheduler asks for, in UTC and across the DST changes of
// Europe/Berlin (the insights daemon's zone is the process's, as here). Input: the expression.
#include <cstdint>
#include <optional>
#include <string_view>

#include "fuzz_check.hpp"
#include "util/cron.hpp"

using namespace energyhub;
using energyhub::insights::CronError;
using energyhub::insights::CronSchedule;

namespace {

// A day before each change of Europe/Berlin in 2025 (spring forward, fall back), in UTC seconds.
constexpr std::int64_t kStarts[] = {1'743'296'400 - 86'400, 1'761'440'400 - 86'400};

void check_runs(const CronSchedule& schedule, const UtcOffsets& zone, bool runs_match_local_time) {
    for (const std::int64_t start : kStarts) {
        // None in five years is possible: "0 3 1 9 */4" wants a 1 September on a Sunday or Thursday.
        const auto next = schedule.next_after(start, zone);
        if (!next) continue;
        FUZZ_CHECK(*next > start && *next % 60 == 0);
        if (runs_match_local_time) FUZZ_CHECK(schedule.matches_local(*next + zone.offset_at(*next)));
        // The scheduler catches up with latest_in: the last run up to now is the one next_after found.
        FUZZ_CHECK(schedule.latest_in(start, *next, zone) == next);
        FUZZ_CHECK(!schedule.latest_in(start, *next - 1, zone));
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    set_process_time_zone("Europe/Berlin");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::optional<CronSchedule> schedule;
    try {
        schedule = CronSchedule::parse(std::string_view(reinterpret_cast<const char*>(data), size));
    } catch (const CronError&) {
        return 0;
    }
    // The config keeps the text; the scheduler parses it again at start.
    FUZZ_CHECK(CronSchedule::parse(schedule->text()).text() == schedule->text());
    check_runs(*schedule, FixedOffset(0), true);
    check_runs(*schedule, FixedOffset(-9 * 3600 - 30 * 60), true);
    // Across DST changes a fixed-time job skipped by spring forward runs at the change itself.
    check_runs(*schedule, ProcessTimeZone(), false);
    return 0;
}
