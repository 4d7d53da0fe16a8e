#include <boost/test/unit_test.hpp>

#include <string>

#include "mqtt_wire.hpp"

using namespace energyhub::sim;

namespace {

std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int v : values) out.push_back(static_cast<char>(v));
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(mqtt_wire)

BOOST_AUTO_TEST_CASE(connect_is_mqtt_3_1_1_with_a_clean_session_and_the_login) {
    std::string out;
    wire::append_connect(out, {"dev", "u", "pw"}, 30);
    const auto expected =
        bytes({0x10, 22, 0, 4, 'M', 'Q', 'T', 'T', 4, 0xc2, 0, 30, 0, 3, 'd', 'e', 'v', 0, 1, 'u', 0, 2, 'p', 'w'});
    BOOST_TEST(out == expected);
    out.clear();
    wire::append_connect(out, {"dev", "", ""}, 30);
    BOOST_TEST(static_cast<unsigned char>(out[9]) == 0x02u);  // no user name, no password
}

BOOST_AUTO_TEST_CASE(publish_carries_its_packet_id_at_qos_1_only) {
    std::string out;
    wire::append_publish(out, "a/b", "{}", 1, 0x1234);
    BOOST_TEST(out == bytes({0x32, 9, 0, 3, 'a', '/', 'b', 0x12, 0x34, '{', '}'}));
    out.clear();
    wire::append_publish(out, "a/b", "{}", 0, 0x1234);
    BOOST_TEST(out == bytes({0x30, 7, 0, 3, 'a', '/', 'b', '{', '}'}));
    // A remaining length of 200 takes two bytes.
    out.clear();
    wire::append_publish(out, "t", std::string(195, 'x'), 0, 0);
    BOOST_TEST(out.substr(0, 3) == bytes({0x30, 0xc6, 0x01}));
    BOOST_TEST(out.size() == 3u + 198u);
}

BOOST_AUTO_TEST_CASE(packets_are_read_whole_or_not_at_all) {
    const auto stream = bytes({0x20, 2, 0, 0, 0x40, 2, 0x12, 0x34, 0xd0, 0});
    wire::Packet p;
    std::size_t used = 0;
    BOOST_TEST((wire::next_packet(stream, p, used) == wire::Parse::packet));
    BOOST_TEST(wire::connack_code(p) == 0);
    BOOST_TEST(used == 4u);
    BOOST_TEST((wire::next_packet(std::string_view(stream).substr(4), p, used) == wire::Parse::packet));
    BOOST_TEST(wire::puback_id(p) == 0x1234);
    BOOST_TEST((wire::next_packet(std::string_view(stream).substr(8), p, used) == wire::Parse::packet));
    BOOST_TEST(p.type == wire::pingresp);
    for (std::size_t cut = 0; cut < 4; ++cut)
        BOOST_TEST((wire::next_packet(std::string_view(stream).substr(0, cut), p, used) == wire::Parse::incomplete));
}

BOOST_AUTO_TEST_CASE(broken_packets_are_refused_without_reading_past_the_buffer) {
    wire::Packet p;
    std::size_t used = 0;
    // Five length bytes, and a length beyond what a publisher accepts.
    BOOST_TEST((wire::next_packet(bytes({0x40, 0xff, 0xff, 0xff, 0xff, 0x01}), p, used) == wire::Parse::malformed));
    BOOST_TEST((wire::next_packet(bytes({0x30, 0x81, 0x80, 0x04}), p, used) == wire::Parse::malformed));
    // A CONNACK or PUBACK of the wrong size says nothing. (The packet's body points into its buffer.)
    const auto short_connack = bytes({0x20, 1, 0}), long_puback = bytes({0x40, 3, 0, 1, 2}),
               refused = bytes({0x20, 2, 0, 5});
    BOOST_REQUIRE((wire::next_packet(short_connack, p, used) == wire::Parse::packet));
    BOOST_TEST(wire::connack_code(p) == -1);
    BOOST_REQUIRE((wire::next_packet(long_puback, p, used) == wire::Parse::packet));
    BOOST_TEST(wire::puback_id(p) == 0);
    BOOST_REQUIRE((wire::next_packet(refused, p, used) == wire::Parse::packet));
    BOOST_TEST(wire::connack_reason(wire::connack_code(p)) == "not authorized");
}

BOOST_AUTO_TEST_SUITE_END()
