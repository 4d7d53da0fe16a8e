#include <boost/test/unit_test.hpp>

#include "util/duration.hpp"

using namespace energyhub;

BOOST_AUTO_TEST_SUITE(duration)

BOOST_AUTO_TEST_CASE(units) {
    BOOST_TEST(parse_duration("500ms")->count() == 500);
    BOOST_TEST(parse_duration("30s")->count() == 30'000);
    BOOST_TEST(parse_duration("10m")->count() == 600'000);
    BOOST_TEST(parse_duration("2h")->count() == 7'200'000);
    BOOST_TEST(parse_duration("1d")->count() == 86'400'000);
    BOOST_TEST(format_duration(Millis(86'400'000)) == "1d");
    BOOST_TEST(format_duration(Millis(1500)) == "1500ms");
}

BOOST_AUTO_TEST_CASE(rejects) {
    for (const char* bad : {"", "10", "-5s", "1.5h", "5 s", "s", "10w", "99999999999999999999d"})
        BOOST_TEST(!parse_duration(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(byte_sizes) {
    BOOST_TEST(*parse_byte_size("64KB") == 65536u);
    BOOST_TEST(*parse_byte_size("1GB") == 1073741824u);
    BOOST_TEST(!parse_byte_size("1TB").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
