#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include "util/cron.hpp"
#include "util/time_zone.hpp"
#include "util/timestamp.hpp"

using namespace energyhub;
using energyhub::insights::CronError;
using energyhub::insights::CronSchedule;

namespace {

// The process zone for one test, restored afterwards (the unit tests run on one thread).
class ScopedZone {
public:
    explicit ScopedZone(const std::string& name) {
        if (const char* old = std::getenv("TZ")) saved_ = old;
        set_process_time_zone(name);
    }
    ~ScopedZone() {
        if (saved_) ::setenv("TZ", saved_->c_str(), 1);
        else ::unsetenv("TZ");
        ::tzset();
    }

private:
    std::optional<std::string> saved_;
};

std::int64_t at(const char* iso) {
    auto ms = parse_iso8601_ms(iso);
    BOOST_REQUIRE_MESSAGE(ms, iso);
    return *ms / 1000;
}

std::string iso(std::optional<std::int64_t> seconds) { return seconds ? format_iso8601(*seconds * 1000) : "none"; }

struct NextCase {
    const char* zone;
    const char* expression;
    const char* after;
    const char* expected;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(cron)

BOOST_AUTO_TEST_CASE(next_run_table) {
    // Expected instants checked against Python's zoneinfo.
    const NextCase cases[] = {
        // Plain UTC.
        {"UTC", "0 7 * * *", "2026-11-28T06:59:59Z", "2026-11-28T07:00:00.000Z"},
        {"UTC", "0 7 * * *", "2026-11-28T07:00:00Z", "2026-11-29T07:00:00.000Z"},  // strictly after
        {"UTC", "*/15 * * * *", "2026-11-28T10:07:30Z", "2026-11-28T10:15:00.000Z"},
        {"UTC", "5/20 * * * *", "2026-11-28T10:30:00Z", "2026-11-28T10:45:00.000Z"},
        {"UTC", "0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00.000Z"},
        {"UTC", "0 0 13 * 5", "2026-11-28T00:00:00Z", "2026-12-04T00:00:00.000Z"},  // 13th or Friday
        {"UTC", "30 9 * jan-mar mon-fri", "2026-11-28T00:00:00Z", "2027-01-01T09:30:00.000Z"},
        {"UTC", "0 12 * * 7", "2026-11-28T00:00:00Z", "2026-11-29T12:00:00.000Z"},  // 7 is Sunday
        {"UTC", "0 12 * * SUN", "2026-11-28T00:00:00Z", "2026-11-29T12:00:00.000Z"},
        {"UTC", "@weekly", "2026-11-28T00:00:00Z", "2026-11-29T00:00:00.000Z"},
        {"UTC", "@monthly", "2026-11-28T00:00:00Z", "2026-12-01T00:00:00.000Z"},
        {"UTC", "@yearly", "2026-11-28T00:00:00Z", "2027-01-01T00:00:00.000Z"},
        {"UTC", "@hourly", "2026-11-28T23:10:00Z", "2026-11-29T00:00:00.000Z"},
        {"UTC", "0 0 */10 * *", "2026-11-28T00:00:00Z", "2026-12-01T00:00:00.000Z"},  // 1, 11, 21, 31
        // Europe/Berlin: a daily job keeps its local time across both changes of 2026.
        {"Europe/Berlin", "0 7 * * *", "2026-03-27T12:00:00Z", "2026-03-28T06:00:00.000Z"},
        {"Europe/Berlin", "0 7 * * *", "2026-03-28T07:00:00Z", "2026-03-29T05:00:00.000Z"},
        {"Europe/Berlin", "0 7 * * *", "2026-10-24T12:00:00Z", "2026-10-25T06:00:00.000Z"},
        // 02:30 does not exist on 2026-03-29: it runs at the change (03:00 CEST), once.
        {"Europe/Berlin", "30 2 * * *", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00.000Z"},
        {"Europe/Berlin", "0 2 * * *", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00.000Z"},
        {"Europe/Berlin", "30 2 * * *", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00.000Z"},
        // 02:30 happens twice on 2026-10-25: only the first (CEST) runs.
        {"Europe/Berlin", "30 2 * * *", "2026-10-24T12:00:00Z", "2026-10-25T00:30:00.000Z"},
        {"Europe/Berlin", "30 2 * * *", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00.000Z"},
        {"Europe/Berlin", "30 2 * * *", "2026-10-25T01:15:00Z", "2026-10-26T01:30:00.000Z"},  // in the repeated hour
        // Wall-clock jobs: the skipped hour does not run, the repeated hour runs again.
        {"Europe/Berlin", "0 * * * *", "2026-03-29T00:30:00Z", "2026-03-29T01:00:00.000Z"},  // 01:30 CET -> 03:00 CEST
        {"Europe/Berlin", "0 * * * *", "2026-10-25T00:30:00Z", "2026-10-25T01:00:00.000Z"},  // 02:00 CET, again
        {"Europe/Berlin", "*/30 * * * *", "2026-10-25T00:45:00Z", "2026-10-25T01:00:00.000Z"},
        {"Europe/Berlin", "*/30 * * * *", "2026-10-25T01:00:00Z", "2026-10-25T01:30:00.000Z"},
        // After 2037, the last transition in Debian's tzdata files: the rules still apply.
        {"Europe/Berlin", "30 2 * * *", "2045-03-25T12:00:00Z", "2045-03-26T01:00:00.000Z"},
        {"Europe/Berlin", "0 7 * * *", "2045-07-01T00:00:00Z", "2045-07-01T05:00:00.000Z"},
        // America/New_York, 2026-03-08 and 2026-11-01.
        {"America/New_York", "30 2 * * *", "2026-03-07T12:00:00Z", "2026-03-08T07:00:00.000Z"},
        {"America/New_York", "30 1 * * *", "2026-10-31T12:00:00Z", "2026-11-01T05:30:00.000Z"},
        {"America/New_York", "30 1 * * *", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00.000Z"},
        // Australia/Lord_Howe changes by 30 minutes, in the southern hemisphere's seasons.
        {"Australia/Lord_Howe", "15 2 * * *", "2026-10-03T00:00:00Z", "2026-10-03T15:30:00.000Z"},
        {"Australia/Lord_Howe", "15 2 * * *", "2026-10-03T15:30:00Z", "2026-10-04T15:15:00.000Z"},
        {"Australia/Lord_Howe", "45 1 * * *", "2026-04-04T00:00:00Z", "2026-04-04T14:45:00.000Z"},
        {"Australia/Lord_Howe", "45 1 * * *", "2026-04-04T14:45:00Z", "2026-04-05T15:15:00.000Z"},
    };
    for (const auto& c : cases) {
        ScopedZone zone(c.zone);
        const auto schedule = CronSchedule::parse(c.expression);
        const auto next = schedule.next_after(at(c.after), ProcessTimeZone());
        BOOST_TEST(iso(next) == c.expected, c.zone << " '" << c.expression << "' after " << c.after);
    }
}

BOOST_AUTO_TEST_CASE(fixed_offsets_need_no_process_zone) {
    const auto schedule = CronSchedule::parse("0 7 * * *");
    BOOST_TEST(iso(schedule.next_after(at("2026-11-28T00:00:00Z"), FixedOffset(5 * 3600 + 1800))) ==
               "2026-11-28T01:30:00.000Z");  // 07:00 at +05:30
}

BOOST_AUTO_TEST_CASE(latest_run_in_a_window) {
    ScopedZone zone("Europe/Berlin");
    const ProcessTimeZone berlin;
    const auto daily = CronSchedule::parse("0 7 * * *");
    // Off for three days: only the latest missed slot is returned, to be run once.
    BOOST_TEST(iso(daily.latest_in(at("2026-11-25T04:00:00Z"), at("2026-11-28T05:00:00Z"), berlin)) == "2026-11-27T06:00:00.000Z");
    BOOST_TEST(iso(daily.latest_in(at("2026-11-28T05:59:59Z"), at("2026-11-28T06:00:00Z"), berlin)) == "2026-11-28T06:00:00.000Z");
    BOOST_TEST(iso(daily.latest_in(at("2026-11-28T06:00:00Z"), at("2026-11-28T07:00:00Z"), berlin)) == "none");
    BOOST_TEST(iso(daily.latest_in(at("2026-11-28T07:00:00Z"), at("2026-11-28T06:00:00Z"), berlin)) == "none");
    // A frequent schedule long overdue is cheap and exact.
    const auto often = CronSchedule::parse("*/15 * * * *");
    BOOST_TEST(iso(often.latest_in(at("2025-11-01T00:00:00Z"), at("2026-11-28T10:07:00Z"), berlin)) == "2026-11-28T10:00:00.000Z");
    BOOST_TEST(iso(often.latest_in(at("2026-11-28T09:59:00Z"), at("2026-11-28T10:00:00Z"), berlin)) == "2026-11-28T10:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(matches_local_times) {
    const auto weekend = CronSchedule::parse("0 9 * * sat,7");
    const std::int64_t saturday = days_from_civil(2026, 11, 28) * 86'400 + 9 * 3600;
    BOOST_TEST(weekend.matches_local(saturday));
    BOOST_TEST(weekend.matches_local(saturday + 86'400));      // Sunday
    BOOST_TEST(!weekend.matches_local(saturday + 2 * 86'400));  // Monday
    BOOST_TEST(!weekend.matches_local(saturday + 60));
    BOOST_TEST(CronSchedule::parse("*/15 * * * *").wall_clock());
    BOOST_TEST(CronSchedule::parse("0 * * * *").wall_clock());
    BOOST_TEST(!CronSchedule::parse("0 7 * * *").wall_clock());
}

BOOST_AUTO_TEST_CASE(rejects_bad_expressions) {
    const char* bad[] = {"",          "* * * *",        "* * * * * *",  "60 * * * *",  "* 24 * * *",  "* * 0 * *",
                         "* * * 13 *", "* * * * 8",     "*/0 * * * *",  "5-1 * * * *", "0 0 30 2 *",  "0 0 31 4,6 *",
                         "@reboot",   "a * * * *",      "1,,2 * * * *", "* * * foo *", "1-2-3 * * * *", "*/x * * * *",
                         "-1 * * * *", "0 7 * * * # x"};
    for (const char* expression : bad) BOOST_CHECK_THROW(CronSchedule::parse(expression), CronError);
    try {
        CronSchedule::parse("0 25 * * *");
    } catch (const CronError& e) {
        BOOST_TEST(std::string(e.what()) == "hour field '25': 25 is out of range 0-23");
    }
    // Valid corner cases: a day that exists in one of the months; either day field with both set.
    BOOST_CHECK_NO_THROW(CronSchedule::parse("0 0 31 4,5 *"));
    BOOST_CHECK_NO_THROW(CronSchedule::parse("0 0 30 2 1"));
    BOOST_CHECK_NO_THROW(CronSchedule::parse("  0   7 * *   *  "));
    BOOST_CHECK_NO_THROW(CronSchedule::parse("@DAILY"));
}

BOOST_AUTO_TEST_CASE(time_zone_names) {
    BOOST_TEST(time_zone_exists("UTC"));
    BOOST_TEST(time_zone_exists("Europe/Berlin"));
    BOOST_TEST(!time_zone_exists("Europe"));  // a folder
    BOOST_TEST(!time_zone_exists("Mars/Olympus"));
    BOOST_TEST(!time_zone_exists("../../etc/passwd"));
    BOOST_TEST(!time_zone_exists("/usr/share/zoneinfo/UTC"));
    BOOST_CHECK_THROW(set_process_time_zone("Nowhere/Special"), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
