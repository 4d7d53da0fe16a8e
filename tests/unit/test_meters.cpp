// Whole-home meters as they ship (tests/fixtures/meters.tsv, with the source of each payload):
// Shelly Pro 3EM (em:0 / emdata:0, NotifyStatus), Shelly EM1 meters (em1:<n> / em1data:<n>), Shelly
// Gen1 EM and 3EM (emeter/<n>/...), Tasmota three-phase and net-metering ENERGY. Checks per-phase
// and total power, import and export counters in the stored units, and usage through the enricher.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <string>

#include "near.hpp"
#include "pipeline/enricher.hpp"
#include "pipeline/payload_decoder.hpp"
#include "test_time.hpp"

using namespace energyhub;
using energyhub::test::kNow;
using energyhub::test::kReceived;
using energyhub::test::near;

namespace {

const std::vector<DeviceTopic> kMeterTopics = {
    {PayloadFormat::tasmota, "tele/+/+"},
    {PayloadFormat::shelly, "+/status/+"},
    {PayloadFormat::shelly, "+/events/rpc"},
    {PayloadFormat::shelly_gen1, "shellies/+/relay/+/+"},
    {PayloadFormat::shelly_gen1, "shellies/+/emeter/+/+"},
};

struct Fixture {
    std::string topic, payload;
};

// name -> topic and payload, from the fixture file.
const std::map<std::string, Fixture>& fixtures() {
    static const auto all = [] {
        std::map<std::string, Fixture> out;
        std::ifstream in(ENERGYHUB_FIXTURES_DIR "/meters.tsv");
        BOOST_TEST_REQUIRE(in.good(), "cannot read " ENERGYHUB_FIXTURES_DIR "/meters.tsv");
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty() || line[0] == '#') continue;
            auto a = line.find('\t'), b = line.find('\t', a + 1);
            out[line.substr(0, a)] = Fixture{line.substr(a + 1, b - a - 1), line.substr(b + 1)};
        }
        return out;
    }();
    return all;
}

struct MeterFixture {
    std::unique_ptr<PayloadDecoder> decoder;
    DecodedMessage out;

    MeterFixture() {
        ParserLimits limits;
        limits.backfill_window_ms = 10 * 366LL * 86'400'000;  // the captures are from past years
        decoder = std::make_unique<PayloadDecoder>("energy/+/reading", kMeterTopics, limits, nullptr);
    }

    void decode(const std::string& name, std::int64_t received = kReceived) {
        const auto& f = fixtures().at(name);
        auto problem = decoder->decode(f.topic, f.payload, DecodeContext{received, kNow}, out);
        BOOST_TEST_REQUIRE(!problem, name << " rejected: " << (problem ? problem->detail : ""));
    }
    const Reading& reading_of(const std::string& id) {
        for (const auto& r : out.readings())
            if (r.device_id == id) return r;
        BOOST_FAIL("no reading for " << id);
        return out.readings()[0];
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(meters, MeterFixture)

BOOST_AUTO_TEST_CASE(every_fixture_decodes) {
    BOOST_TEST(fixtures().size() >= 20u);
    for (const auto& [name, f] : fixtures()) {
        auto problem = decoder->decode(f.topic, f.payload, DecodeContext{kReceived, kNow}, out);
        BOOST_TEST(!problem, name << ": " << (problem ? problem->detail : ""));
    }
}

BOOST_AUTO_TEST_CASE(shelly_pro_3em_totals_are_the_device_and_phases_its_channels) {
    const std::string id = "shellypro3em-c8f09e8841d8";
    decode("pro3em_em");
    BOOST_TEST(out.readings().size() == 4u);
    auto total = reading_of(id);
    BOOST_TEST(near(total.power_w, 594.006));
    BOOST_TEST(near(total.current_a, 4.159));
    BOOST_TEST(!total.voltage_v.has_value());  // three voltages, none of them the device's
    BOOST_TEST(!total.energy_wh.has_value());  // no counters seen yet
    auto a = reading_of(id + ":0"), c = reading_of(id + ":2");
    BOOST_TEST(near(a.power_w, 145.4));
    BOOST_TEST(near(a.voltage_v, 230.8));
    BOOST_TEST(near(a.current_a, 1.201));
    BOOST_TEST(near(c.power_w, 358.3));

    // The counters arrive on their own topic (once a minute) and carry the last power.
    decode("pro3em_emdata", kReceived + 500);
    BOOST_TEST(out.readings().size() == 4u);
    total = reading_of(id);
    BOOST_TEST(near(total.energy_wh, 345628.03));  // Wh as sent: import
    BOOST_TEST(near(total.energy_export_wh, 1247.42));
    BOOST_TEST(near(total.power_w, 594.006));
    c = reading_of(id + ":2");
    BOOST_TEST(near(c.energy_wh, 110844.76));
    BOOST_TEST(near(c.energy_export_wh, 1247.42));
    BOOST_TEST(near(c.voltage_v, 231.4));
    BOOST_TEST(near(reading_of(id + ":1").energy_export_wh, 0.0));
    BOOST_TEST(reading_of(id + ":1").ts_ms == kReceived + 500);
}

BOOST_AUTO_TEST_CASE(a_notify_status_of_the_counters_is_dated_by_the_device) {
    decode("pro3em_notify_emdata");
    BOOST_TEST(out.readings().size() == 4u);
    auto total = reading_of("shellypro3em-1234567890ab");
    BOOST_TEST(total.ts_ms == 1'757'060'280'210);
    BOOST_TEST(near(total.energy_wh, 26289.57));
    BOOST_TEST(near(total.energy_export_wh, 131881.86));
    BOOST_TEST(near(reading_of("shellypro3em-1234567890ab:2").energy_export_wh, 131881.85));
}

BOOST_AUTO_TEST_CASE(live_values_and_counters_in_one_frame_make_one_reading_each) {
    const std::string frame =
        R"({"src":"shellypro3em-aa","method":"NotifyStatus","params":{"ts":1764323990.5,)"
        R"("em:0":{"id":0,"a_act_power":-1200.5,"b_act_power":-10,"c_act_power":5,"total_act_power":-1205.5},)"
        R"("emdata:0":{"id":0,"total_act":1000,"total_act_ret":2000.5}}})";
    BOOST_REQUIRE(!decoder->decode("shellypro3em-aa/events/rpc", frame, DecodeContext{kReceived, kNow}, out));
    BOOST_TEST(out.readings().size() == 4u);
    auto total = reading_of("shellypro3em-aa");
    BOOST_TEST(near(total.power_w, -1205.5));  // net export
    BOOST_TEST(near(total.energy_wh, 1000.0));
    BOOST_TEST(near(total.energy_export_wh, 2000.5));
    BOOST_TEST(near(reading_of("shellypro3em-aa:0").power_w, -1200.5));
}

BOOST_AUTO_TEST_CASE(em1_meters_are_channels_numbered_like_their_components) {
    decode("3em63_em1_2");
    auto r = reading_of("shelly3em63g3-48f6eead1a8c:2");
    BOOST_TEST(near(r.power_w, 219.4));
    BOOST_TEST(near(r.voltage_v, 228.5));
    BOOST_TEST(near(r.current_a, 1.246));

    decode("proem_em1_1");
    decode("proem_em1data_1", kReceived + 1);
    BOOST_TEST(out.readings().size() == 1u);
    r = reading_of("shellyproem50-08f9e0e5d3a4:1");
    BOOST_TEST(near(r.energy_wh, 9671.54));
    BOOST_TEST(near(r.energy_export_wh, 2595.26));
    BOOST_TEST(near(r.power_w, 6769.3));  // carried from em1:1
}

BOOST_AUTO_TEST_CASE(a_three_phase_meter_is_em_0_only) {
    auto problem = decoder->decode("shellypro3em-aa/status/em:1", R"({"id":1,"total_act_power":5})",
                                   DecodeContext{kReceived, kNow}, out);
    BOOST_TEST_REQUIRE(problem.has_value());
    BOOST_TEST((problem->reason == RejectReason::bad_channel));
    // Early firmware published an empty emdata: nothing to store, nothing refused.
    out.clear();
    BOOST_REQUIRE(!decoder->decode("shellypro3em-aa/status/emdata:0", R"({"id":0})", DecodeContext{kReceived, kNow}, out));
    BOOST_TEST(out.empty());
    // A negative counter is refused like any other.
    problem = decoder->decode("shellypro3em-aa/status/emdata:0", R"({"id":0,"total_act":5,"total_act_ret":-1})",
                              DecodeContext{kReceived, kNow}, out);
    BOOST_TEST_REQUIRE(problem.has_value());
    BOOST_TEST((problem->reason == RejectReason::negative_energy));
}

BOOST_AUTO_TEST_CASE(shelly_gen1_meters_store_wh_totals_and_carry_voltage) {
    const std::string id = "shellyem3-485519D6FEC7:0";
    decode("3em_gen1_total_returned_0");
    BOOST_TEST(near(reading_of(id).energy_export_wh, 427.7));
    decode("3em_gen1_total_0");
    BOOST_TEST(near(reading_of(id).energy_wh, 10533.1));  // Wh, not the watt-minutes of relays
    BOOST_TEST(near(reading_of(id).energy_export_wh, 427.7));
    decode("3em_gen1_voltage_0");
    BOOST_TEST(out.empty());  // kept for the next reading
    decode("3em_gen1_current_0");
    decode("3em_gen1_pf_0");
    BOOST_TEST(out.empty());
    decode("3em_gen1_power_0");
    auto r = reading_of(id);
    BOOST_TEST(near(r.power_w, 120.11));
    BOOST_TEST(near(r.voltage_v, 231.84));
    BOOST_TEST(near(r.current_a, 0.71));
    BOOST_TEST(near(r.energy_wh, 10533.1));
    decode("em_gen1_total_0");
    BOOST_TEST(near(reading_of("shellyem-D3B45C:0").energy_wh, 64541.0));
}

BOOST_AUTO_TEST_CASE(tasmota_three_phase_meter_with_export) {
    decode("tasmota_modbus");
    BOOST_TEST(out.readings().size() == 4u);
    auto total = reading_of("Zaehler");
    BOOST_TEST(near(total.energy_wh, 16'647'945.0));                          // Total kWh -> Wh
    BOOST_TEST(near(total.energy_export_wh, (1508.369 + 1929.488 + 1696.624) * 1000));  // summed phases
    BOOST_TEST(near(total.power_w, -136.495 + 0.0 - 78.478));                 // net: exporting
    auto l1 = reading_of("Zaehler:1");
    BOOST_TEST(near(l1.power_w, -136.495));
    BOOST_TEST(near(l1.energy_export_wh, 1'508'369.0));
    BOOST_TEST(near(l1.voltage_v, 230.75));
    BOOST_TEST(!l1.energy_wh.has_value());  // Total per phase needs SetOption129

    decode("tasmota_3em");
    total = reading_of("tasmota_3em");
    BOOST_TEST(near(total.energy_wh, 6.27));
    BOOST_TEST(near(total.energy_export_wh, 24.67));
    BOOST_TEST(near(total.power_w, -0.2));
}

BOOST_AUTO_TEST_CASE(tasmota_per_channel_totals) {
    decode("tasmota_so129");
    BOOST_TEST(near(reading_of("tasmota_dual:1").energy_wh, 5.0));
    BOOST_TEST(near(reading_of("tasmota_dual:2").energy_wh, 1507.0));
    BOOST_TEST(near(reading_of("tasmota_dual").energy_wh, 1512.0));
    BOOST_TEST(near(reading_of("tasmota_dual").power_w, 26.0));
}

BOOST_AUTO_TEST_CASE(a_tasmota_net_register_running_backwards_is_export_not_usage) {
    // Tasmota's Total on a Shelly 3EM falls while the house exports (its Yesterday goes negative);
    // through the enricher that is export, and a later true reset is still a reset.
    struct House final : DeviceLookupPort {
        LookupStatus lookup(std::string_view, DeviceInfo& out) override {
            out.record = {"house", "alice", "grid", "Meter"};
            return LookupStatus::found;
        }
    } lookup;
    ManualClock clock;
    DeviceTable devices{100};
    Enricher enricher(devices, lookup, 1000, clock);
    EnrichedReading e;
    std::vector<EnrichedReading> steps;
    std::int64_t t = kReceived - 3 * 300'000;
    for (const char* sensor : {R"({"ENERGY":{"Total":514.153,"Power":[-1200,-700,-100]}})",   // exporting 2 kW
                               R"({"ENERGY":{"Total":514.000,"Power":[-1200,-700,-100]}})",   // 5 min: -153 Wh
                               R"({"ENERGY":{"Total":514.050,"Power":[300,200,100]}})",       // importing again
                               R"({"ENERGY":{"Total":0.004,"Power":[300,200,100]}})"}) {      // EnergyReset
        BOOST_REQUIRE(!decoder->decode("tele/house/SENSOR", sensor, DecodeContext{t, kNow}, out));
        BOOST_REQUIRE(enricher.enrich(reading_of("house"), e) == LookupStatus::found);
        steps.push_back(e);
        t += 300'000;
    }
    BOOST_TEST(near(steps[1].energy_delta_wh, 0.0));
    BOOST_TEST(near(steps[1].export_delta_wh, 153.0));
    BOOST_TEST(near(steps[2].energy_delta_wh, 50.0));
    BOOST_TEST(near(steps[3].energy_delta_wh, 4.0));
    BOOST_TEST(!steps[3].export_delta_wh.has_value());
}

BOOST_AUTO_TEST_SUITE_END()
