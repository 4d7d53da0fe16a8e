#include <boost/test/unit_test.hpp>

#include <string>

#include "pipeline/reading_parser.hpp"
#include "test_time.hpp"
#include "util/timestamp.hpp"

using namespace energyhub;
using energyhub::test::kNow;

namespace {

struct ParserFixture {
    ReadingParser parser{TopicPattern("energy/+/reading"), ParserLimits{}};
    Reading out;

    std::optional<Reject> parse(const std::string& payload, const std::string& topic = "energy/plug-1/reading") {
        return parser.parse(topic, payload, kNow - 1000, kNow, out);
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(reading_parser, ParserFixture)

BOOST_AUTO_TEST_CASE(full_reading_is_decoded) {
    auto r = parse(R"({"ts":"2025-11-28T09:59:00.123Z","power_w":153.2,"energy_wh":12345.6,"voltage_v":230.1,"current_a":0.67})");
    BOOST_REQUIRE(!r);
    BOOST_TEST(out.device_id == "plug-1");
    BOOST_TEST(out.ts_ms == kNow - 60'000 + 123);
    BOOST_TEST(*out.power_w == 153.2);
    BOOST_TEST(*out.energy_wh == 12345.6);
    BOOST_TEST(*out.voltage_v == 230.1);
    BOOST_TEST(*out.current_a == 0.67);
}

BOOST_AUTO_TEST_CASE(epoch_ms_and_offsets_and_integers) {
    BOOST_REQUIRE(!parse(R"({"ts":1764323990000,"power_w":5})"));
    BOOST_TEST(out.ts_ms == 1764323990000);
    BOOST_TEST(*out.power_w == 5.0);
    BOOST_REQUIRE(!parse(R"({"ts":"2025-11-28T10:59:00+01:00","energy_wh":0})"));
    BOOST_TEST(out.ts_ms == kNow - 60'000);
    BOOST_TEST(!out.power_w.has_value());
}

BOOST_AUTO_TEST_CASE(missing_ts_uses_receive_time) {
    BOOST_REQUIRE(!parse(R"({"power_w":1.5})"));
    BOOST_TEST(out.ts_ms == kNow - 1000);
}

BOOST_AUTO_TEST_CASE(negative_power_is_export_and_valid) {
    BOOST_REQUIRE(!parse(R"({"power_w":-1200.5})"));
    BOOST_TEST(*out.power_w == -1200.5);
}

BOOST_AUTO_TEST_CASE(unknown_fields_are_ignored) {
    BOOST_REQUIRE(!parse(R"({"power_w":1,"fw":"1.2.3","extra":{"a":[1,2,{"b":null}]},"rssi":-60})"));
    BOOST_TEST(*out.power_w == 1.0);
}

BOOST_AUTO_TEST_CASE(state_from_a_previous_message_does_not_leak) {
    BOOST_REQUIRE(!parse(R"({"power_w":1,"voltage_v":230})"));
    BOOST_REQUIRE(!parse(R"({"energy_wh":2})"));
    BOOST_TEST(!out.power_w.has_value());
    BOOST_TEST(!out.voltage_v.has_value());
}

struct BadPayload {
    const char* name;
    std::string topic;
    std::string payload;
    RejectReason reason;
};

BOOST_AUTO_TEST_CASE(bad_payloads_are_rejected_with_their_reason) {
    const std::string t = "energy/plug-1/reading";
    const std::vector<BadPayload> cases = {
        {"empty", t, "", RejectReason::malformed_json},
        {"truncated", t, R"({"power_w":1)", RejectReason::malformed_json},
        {"trailing garbage", t, R"({"power_w":1}x)", RejectReason::malformed_json},
        {"NaN literal", t, R"({"power_w":NaN})", RejectReason::malformed_json},
        {"Infinity literal", t, R"({"power_w":Infinity})", RejectReason::malformed_json},
        {"huge exponent", t, R"({"power_w":1e400})", RejectReason::malformed_json},
        {"array root", t, R"([1,2,3])", RejectReason::not_an_object},
        {"string root", t, R"("power")", RejectReason::not_an_object},
        {"number root", t, "42", RejectReason::not_an_object},
        {"power as string", t, R"({"power_w":"153"})", RejectReason::wrong_type},
        {"power as bool", t, R"({"power_w":true})", RejectReason::wrong_type},
        {"power null", t, R"({"power_w":null})", RejectReason::wrong_type},
        {"energy as object", t, R"({"energy_wh":{"v":1}})", RejectReason::wrong_type},
        {"no measurement", t, R"({"voltage_v":230})", RejectReason::no_measurement},
        {"empty object", t, "{}", RejectReason::no_measurement},
        {"negative counter", t, R"({"energy_wh":-5})", RejectReason::negative_energy},
        {"duplicate key", t, R"({"power_w":1,"power_w":2})", RejectReason::duplicate_key},
        {"ts without zone", t, R"({"ts":"2025-11-28T10:00:00","power_w":1})", RejectReason::bad_timestamp},
        {"ts garbage", t, R"({"ts":"yesterday","power_w":1})", RejectReason::bad_timestamp},
        {"ts month 13", t, R"({"ts":"2025-13-01T00:00:00Z","power_w":1})", RejectReason::bad_timestamp},
        {"ts bool", t, R"({"ts":true,"power_w":1})", RejectReason::bad_timestamp},
        {"ts fractional epoch", t, R"({"ts":1764324000000.5,"power_w":1})", RejectReason::bad_timestamp},
        {"ts far future", t, R"({"ts":"2030-01-01T00:00:00Z","power_w":1})", RejectReason::timestamp_out_of_window},
        {"ts far past", t, R"({"ts":"2001-01-01T00:00:00Z","power_w":1})", RejectReason::timestamp_out_of_window},
        {"ts 6 min ahead", t, R"({"ts":1764324360000,"power_w":1})", RejectReason::timestamp_out_of_window},
        {"ts epoch seconds", t, R"({"ts":1764324000,"power_w":1})", RejectReason::timestamp_out_of_window},
        {"deep nesting", t, R"({"power_w":1,"x":)" + std::string(40, '[') + std::string(40, ']') + "}",
         RejectReason::malformed_json},
        {"too large", t, R"({"power_w":1,"pad":")" + std::string(20'000, 'a') + "\"}", RejectReason::payload_too_large},
        {"invalid utf8", t, "{\"power_w\":1,\"n\":\"\xff\xfe\"}", RejectReason::malformed_json},
        {"wrong topic", "energy/plug-1/other", R"({"power_w":1})", RejectReason::bad_topic},
        {"extra level", "energy/a/b/reading", R"({"power_w":1})", RejectReason::bad_topic},
        {"sql in id", "energy/x';DROP TABLE readings;--/reading", R"({"power_w":1})", RejectReason::invalid_device_id},
        {"shell in id", "energy/$(reboot)/reading", R"({"power_w":1})", RejectReason::invalid_device_id},
        {"id too long", "energy/" + std::string(65, 'a') + "/reading", R"({"power_w":1})",
         RejectReason::invalid_device_id},
    };
    BOOST_TEST(cases.size() >= 20u);
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.name) {
            auto r = parse(c.payload, c.topic);
            BOOST_TEST_REQUIRE(r.has_value());
            BOOST_TEST(reject_reason_name(r->reason) == reject_reason_name(c.reason));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_good_reading_after_bad_ones_still_parses) {
    BOOST_TEST(parse("{{{").has_value());
    BOOST_TEST(parse(std::string(100'000, '[')).has_value());
    BOOST_TEST(!parse(R"({"power_w":7})"));
    BOOST_TEST(*out.power_w == 7.0);
}

BOOST_AUTO_TEST_SUITE_END()
