#include <boost/test/unit_test.hpp>

#include <string>

#include "postgres/binary_array.hpp"

using namespace energyhub::postgres;

namespace {

// The bytes as hex, for readable failures.
std::string hex(const std::string& bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 0xF];
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(binary_array)

// array_recv's layout: dimensions, has-nulls flag, element oid, then per dimension its length and
// lower bound; then each element as a length (-1: NULL) and its bytes, all big-endian.
BOOST_AUTO_TEST_CASE(float8_with_a_null) {
    BinaryArray a;
    a.start(ElementType::float8);
    a.add(std::optional<double>(1.5));
    a.add(std::optional<double>());
    a.add(std::optional<double>(-2.0));
    BOOST_TEST(hex(a.bytes()) ==
               "00000001"  // one dimension
               "00000001"  // has nulls
               "000002bd"  // float8 (701)
               "00000003"
               "00000001"  // three elements from index 1
               "00000008"
               "3ff8000000000000"  // 1.5
               "ffffffff"          // NULL
               "00000008"
               "c000000000000000");  // -2
}

BOOST_AUTO_TEST_CASE(text_and_timestamps) {
    BinaryArray a;
    a.start(ElementType::text);
    a.add(std::string_view("a\"b"));  // sent as is: nothing to quote or escape
    a.add(std::string_view(""));
    BOOST_TEST(hex(a.bytes()) ==
               "00000001"
               "00000000"
               "00000019"
               "00000002"
               "00000001"
               "00000003"
               "612262"
               "00000000");

    a.start(ElementType::timestamptz);    // reused: the earlier elements are gone
    a.add_timestamp_ms(946'684'800'000);  // 2000-01-01T00:00:00Z, PostgreSQL's epoch
    a.add_timestamp_ms(946'684'800'001);  // a millisecond later: 1,000 µs
    a.add_timestamp_ms(0);                // 1970: before the epoch, negative
    BOOST_TEST(hex(a.bytes()) ==
               "00000001"
               "00000000"
               "000004a0"
               "00000003"
               "00000001"
               "00000008"
               "0000000000000000"
               "00000008"
               "00000000000003e8"
               "00000008"
               "fffca2fec4c82000");  // -946,684,800,000,000
}

BOOST_AUTO_TEST_SUITE_END()
