// The simulator's house profile: a three-phase grid meter with rooftop solar. Its model exports
// around the solar noon and imports at night with counters that only grow, and its payloads in
// each format decode, through the hub's own adapters, to the readings the model produced.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <string>

#include "house.hpp"
#include "near.hpp"
#include "pipeline/payload_decoder.hpp"
#include "units.hpp"
#include "vendor_payload.hpp"

using namespace energyhub;
using energyhub::test::near;
using namespace energyhub::sim;

namespace {

constexpr std::int64_t kMidnightMs = 1'795'046'400'000;  // 2026-11-19T00:00:00Z
constexpr std::int64_t kHouseStepMs = 60'000;

const std::vector<DeviceTopic> kHouseTopics = {
    {PayloadFormat::tasmota, "tele/+/+"},
    {PayloadFormat::shelly, "+/events/rpc"},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(house)

BOOST_AUTO_TEST_CASE(a_day_imports_at_night_and_exports_at_noon) {
    HouseModel model(7, 3, 12);
    auto first = model.step(kMidnightMs);
    auto previous = first;
    double night_min = 1e9, noon_min = 1e9;
    for (std::int64_t ts = kMidnightMs + kHouseStepMs; ts < kMidnightMs + 24 * kHourMs; ts += kHouseStepMs) {
        const auto s = model.step(ts);
        const auto hour = (ts - kMidnightMs) / kHourMs;
        if (hour < 4) night_min = std::min(night_min, s.power_w);
        if (hour >= 11 && hour < 13) noon_min = std::min(noon_min, s.power_w);
        double power = 0, imported = 0, exported = 0;
        for (std::size_t p = 0; p < kPhases; ++p) {
            BOOST_TEST_REQUIRE(s.phases[p].import_wh >= previous.phases[p].import_wh);
            BOOST_TEST_REQUIRE(s.phases[p].export_wh >= previous.phases[p].export_wh);
            power += s.phases[p].power_w;
            imported += s.phases[p].import_wh;
            exported += s.phases[p].export_wh;
        }
        BOOST_TEST_REQUIRE(std::fabs(s.power_w - power) < 1e-6);
        BOOST_TEST_REQUIRE(std::fabs(s.import_wh - imported) < 1e-6);
        BOOST_TEST_REQUIRE(std::fabs(s.export_wh - exported) < 1e-6);
        // The net register: where it started, plus import, minus export.
        BOOST_TEST_REQUIRE(std::fabs(s.net_wh - (first.net_wh + (s.import_wh - first.import_wh) -
                                                 (s.export_wh - first.export_wh))) < 1e-6);
        BOOST_TEST_REQUIRE(s.net_wh > 0);
        previous = s;
    }
    BOOST_TEST(night_min > 0);  // no sun: every hour imports
    BOOST_TEST(noon_min < 0);   // the panels outproduce the house
    BOOST_TEST(previous.export_wh - first.export_wh > 1000.0);
    BOOST_TEST(previous.import_wh - first.import_wh > 1000.0);
}

BOOST_AUTO_TEST_CASE(payloads_decode_to_the_model_through_the_hub) {
    HouseModel model(7, 3, 12);
    model.step(kMidnightMs + 11 * kHourMs);
    const std::int64_t ts = kMidnightMs + 12 * kHourMs + 123;
    const auto s = model.step(ts);
    BOOST_TEST_REQUIRE(s.power_w < 0);

    ParserLimits limits;
    PayloadDecoder decoder("energy/+/reading", kHouseTopics, limits, nullptr);
    DecodedMessage out;
    VendorBuffer buffer{};
    VendorState state{};
    const DecodeContext ctx{ts + 500, ts + 1000};
    auto reading_of = [&](const std::string& id) -> const Reading& {
        for (const auto& r : out.readings())
            if (r.device_id == id) return r;
        BOOST_FAIL("no reading for " << id);
        return out.readings()[0];
    };

    // Shelly Pro 3EM: totals under the device, phases :0..:2, dated by the frame.
    auto payload = format_house(Format::shelly, buffer, "house-1", ts, s, state);
    BOOST_TEST_REQUIRE(topic_for(Format::shelly, "energy", "house-1", true) == "house-1/events/rpc");
    auto problem = decoder.decode("house-1/events/rpc", payload, ctx, out);
    BOOST_TEST_REQUIRE(!problem, (problem ? problem->detail : "") << ": " << payload);
    BOOST_TEST(out.readings().size() == 4u);
    BOOST_TEST(reading_of("house-1").ts_ms == ts);
    BOOST_TEST(near(reading_of("house-1").power_w, s.power_w, 0.001));
    BOOST_TEST(near(reading_of("house-1").energy_wh, s.import_wh, 0.005));
    BOOST_TEST(near(reading_of("house-1").energy_export_wh, s.export_wh, 0.005));
    BOOST_TEST(near(reading_of("house-1:2").power_w, s.phases[2].power_w, 0.05));
    BOOST_TEST(near(reading_of("house-1:2").energy_export_wh, s.phases[2].export_wh, 0.005));

    // Tasmota: the net register as Total, export per phase, net power summed by the hub.
    payload = format_house(Format::tasmota, buffer, "house-2", ts, s, state);
    out.clear();
    problem = decoder.decode("tele/house-2/SENSOR", payload, ctx, out);
    BOOST_TEST_REQUIRE(!problem, (problem ? problem->detail : "") << ": " << payload);
    BOOST_TEST(out.readings().size() == 4u);
    BOOST_TEST(near(reading_of("house-2").energy_wh, s.net_wh, 0.01));
    BOOST_TEST(near(reading_of("house-2").energy_export_wh, s.export_wh, 0.03));
    BOOST_TEST(near(reading_of("house-2").power_w, s.power_w, 0.2));
    BOOST_TEST(near(reading_of("house-2:1").voltage_v, s.phases[0].voltage_v, 0.05));

    // Native: one reading with both counters.
    payload = format_house(Format::native, buffer, "house-3", ts, s, state);
    out.clear();
    problem = decoder.decode("energy/house-3/reading", payload, ctx, out);
    BOOST_TEST_REQUIRE(!problem, (problem ? problem->detail : "") << ": " << payload);
    BOOST_TEST(out.readings()[0].ts_ms == ts);
    BOOST_TEST(near(out.readings()[0].energy_export_wh, s.export_wh, 0.0005));
    BOOST_TEST(near(out.readings()[0].power_w, s.power_w, 0.05));
}

BOOST_AUTO_TEST_SUITE_END()
