#include <boost/test/unit_test.hpp>

#include "util/timestamp.hpp"

using namespace energyhub;

BOOST_AUTO_TEST_SUITE(timestamp)

BOOST_AUTO_TEST_CASE(iso8601_round_trip) {
    auto ms = parse_iso8601_ms("2026-11-28T10:00:00.123Z");
    BOOST_REQUIRE(ms);
    BOOST_TEST(*ms == 1795860000123LL);
    BOOST_TEST(format_iso8601(*ms) == "2026-11-28T10:00:00.123Z");
    char buf[kTimestampBufferSize];
    BOOST_TEST(std::string(buf, format_timestamp(*ms, buf)) == "2026-11-28 10:00:00.123+00");
    BOOST_TEST(std::string(buf, format_timestamp(0, buf)) == "1970-01-01 00:00:00.000+00");
    BOOST_TEST(std::string(buf, format_timestamp(253'402'300'799'999, buf)) == "9999-12-31 23:59:59.999+00");
    BOOST_TEST(std::string(buf, format_timestamp(-1, buf)) == "1969-12-31 23:59:59.999+00");
    BOOST_TEST(format_iso8601(951'782'400'007) == "2000-02-29T00:00:00.007Z");
}

BOOST_AUTO_TEST_CASE(offsets_and_leap_days) {
    BOOST_TEST(*parse_iso8601_ms("2024-02-29T01:00:00+01:00") == *parse_iso8601_ms("2024-02-29T00:00:00Z"));
    BOOST_TEST(!parse_iso8601_ms("2023-02-29T00:00:00Z"));
    BOOST_TEST(!parse_iso8601_ms("2024-02-29T24:00:00Z"));
    BOOST_TEST(!parse_iso8601_ms("2024-02-29T00:00:00Zjunk"));
    BOOST_TEST(*parse_iso8601_ms("1970-01-01T00:00:00Z") == 0);
}

BOOST_AUTO_TEST_CASE(day_boundaries) {
    BOOST_TEST(day_start_ms(kMsPerDay + 5) == kMsPerDay);
    BOOST_TEST(day_start_ms(-1) == -kMsPerDay);
    auto d = civil_from_days(days_from_civil(2026, 11, 28));
    BOOST_TEST(d.year == 2026);
    BOOST_TEST(d.month == 11u);
    BOOST_TEST(d.day == 28u);
}

BOOST_AUTO_TEST_SUITE_END()
