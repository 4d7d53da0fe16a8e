// The device payload adapters (Tasmota, Shelly Gen2, Shelly Gen1, native) behind PayloadDecoder,
// over the vendor payloads of the shared fixtures (payloads.tsv) and more from the vendors' docs.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "domain/ids.hpp"
#include "near.hpp"
#include "pipeline/enricher.hpp"
#include "pipeline/payload_decoder.hpp"
#include "pipeline/tasmota_adapter.hpp"
#include "test_time.hpp"
#include "util/timestamp.hpp"
#include "vendor_payload.hpp"

using namespace energyhub;
using energyhub::test::kNow;
using energyhub::test::kReceived;
using energyhub::test::near;

namespace {

constexpr std::int64_t kYearMs = 366LL * 86'400'000;

const std::vector<DeviceTopic> kAdapterTopics = {
    {PayloadFormat::tasmota, "tele/+/+"},
    {PayloadFormat::shelly, "+/status/+"},
    {PayloadFormat::shelly, "+/events/rpc"},
    {PayloadFormat::shelly, "+/online"},
    {PayloadFormat::shelly_gen1, "shellies/+/relay/+/+"},
    {PayloadFormat::shelly_gen1, "shellies/+/online"},
};

// The vendor lines of /work/shared/fixtures/payloads.tsv, verbatim.
const std::string kSonoffDesk =
    R"({"Time":"2023-05-19T20:52:56","ENERGY":{"TotalStartTime":"2022-03-20T15:20:48","Total":514.153,"Yesterday":1.495,"Today":0.537,"Period":0,"Power":56,"ApparentPower":92,"ReactivePower":73,"Factor":0.61,"Voltage":234,"Current":0.392}})";
const std::string kTasmotaA1B2C3 =
    R"({"Time":"2023-04-04T17:01:33","Switch1":"ON","ENERGY":{"TotalStartTime":"2020-01-05T12:41:22","Total":14.68792,"Yesterday":0.00001,"Today":0.00869,"Period":1,"Power":32,"ApparentPower":35,"ReactivePower":16,"Factor":0.89,"Voltage":238,"Current":0.148}})";
const std::string kOldPlug =
    R"({"Time":"2018-10-14T21:57:33","ENERGY":{"Total":0.006,"Yesterday":0.000,"Today":0.006,"Power":5,"Factor":0.10,"Voltage":214,"Current":0.241}})";
const std::string kNoMeter = R"({"Time":"2024-02-24T22:20:38","Switch1":"ON"})";
const std::string kPlugUs =
    R"({"id":0,"source":"loopback","output":true,"apower":10.7,"voltage":120.7,"current":0.133,"aenergy":{"total":46791.262,"by_minute":[73.921,177.749,177.749],"minute_ts":1682952864},"temperature":{"tC":47.9,"tF":118.3}})";
const std::string k2pm0 =
    R"({"id":0,"source":"MQTT","output":false,"apower":0.0,"voltage":237.0,"freq":50.0,"current":0.000,"pf":0.00,"aenergy":{"total":62758.285,"by_minute":[0.000,0.000,0.000],"minute_ts":1709223337},"temperature":{"tC":35.5,"tF":96.0}})";
const std::string k2pm1 =
    R"({"id":1,"source":"MQTT","output":false,"apower":0.0,"voltage":237.1,"freq":50.0,"current":0.000,"pf":0.00,"aenergy":{"total":61917.211,"by_minute":[0.000,0.000,0.000],"minute_ts":1709223337},"temperature":{"tC":35.5,"tF":96.0}})";
const std::string k1pm =
    R"({"id":0,"source":"WS_in","output":false,"apower":0.0,"voltage":123.3,"current":0.000,"aenergy":{"total":0.000,"by_minute":[0.000,0.000,0.000],"minute_ts":1680536525},"temperature":{"tC":44.4,"tF":112.0}})";

struct DecoderFixture {
    ParserLimits limits;
    std::unique_ptr<PayloadDecoder> decoder;
    DecodedMessage out;

    explicit DecoderFixture(const UtcOffsets* zone = nullptr, ParserLimits l = ParserLimits{}) : limits(l) {
        decoder = std::make_unique<PayloadDecoder>("energy/+/reading", kAdapterTopics, limits, zone);
    }

    std::optional<Reject> decode(const std::string& topic, const std::string& payload,
                                 std::int64_t received = kReceived) {
        return decoder->decode(topic, payload, DecodeContext{received, kNow}, out);
    }

    const Reading& only() {
        BOOST_TEST_REQUIRE(out.readings().size() == 1u);
        return out.readings()[0];
    }
    const Reading& reading_of(const std::string& id) {
        for (const auto& r : out.readings())
            if (r.device_id == id) return r;
        BOOST_FAIL("no reading for " << id);
        return out.readings()[0];
    }
};

// A zone with a daylight saving change: +1 h until `change`, +2 h from then (spring), or the
// reverse (autumn).
class ChangingZone final : public UtcOffsets {
public:
    ChangingZone(std::int64_t change_s, std::int64_t before_s, std::int64_t after_s)
        : change_s_(change_s), before_s_(before_s), after_s_(after_s) {}
    std::int64_t offset_at(std::int64_t utc_s) const override { return utc_s < change_s_ ? before_s_ : after_s_; }

private:
    std::int64_t change_s_, before_s_, after_s_;
};

std::int64_t utc(const std::string& iso) { return *parse_iso8601_ms(iso); }

struct BadMessage {
    const char* name;
    std::string topic;
    std::string payload;
    RejectReason reason;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(adapters)

BOOST_AUTO_TEST_CASE(topic_filters_capture_the_device_and_the_tail) {
    TopicFilter tasmota("tele/+/+");
    auto m = tasmota.match("tele/sonoff_desk/SENSOR");
    BOOST_TEST_REQUIRE(m.has_value());
    BOOST_TEST(m->device == "sonoff_desk");
    BOOST_TEST(m->tail == "SENSOR");
    BOOST_TEST(!tasmota.match("tele/a/b/SENSOR").has_value());
    BOOST_TEST(!tasmota.match("stat/a/RESULT").has_value());

    TopicFilter gen1("shellies/+/relay/+/+");
    m = gen1.match("shellies/shellyplug-s-040BAD/relay/0/power");
    BOOST_TEST_REQUIRE(m.has_value());
    BOOST_TEST(m->device == "shellyplug-s-040BAD");
    BOOST_TEST(m->tail == "relay/0/power");
    BOOST_TEST(!gen1.match("shellies/x/relay/0").has_value());

    TopicFilter rest("home/+/#");
    m = rest.match("home/plug/status/switch:0");
    BOOST_TEST_REQUIRE(m.has_value());
    BOOST_TEST(m->tail == "status/switch:0");
    BOOST_TEST(rest.match("home/plug").has_value());

    TopicFilter native("energy/+/reading");
    m = native.match("energy/plug-1/reading");
    BOOST_TEST_REQUIRE(m.has_value());
    BOOST_TEST(m->tail == "reading");

    for (const char* bad : {"tele/x/SENSOR", "tele/a+/SENSOR", "tele/#/+", "a/#/b", "#"})
        BOOST_CHECK_THROW(TopicFilter{bad}, std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(sub_device_ids) {
    BOOST_TEST(is_valid_reading_device_id("plug-1"));
    BOOST_TEST(is_valid_reading_device_id("plug-1:0"));
    BOOST_TEST(is_valid_reading_device_id("plug-1:63"));
    BOOST_TEST(!is_valid_reading_device_id("plug-1:64"));
    BOOST_TEST(!is_valid_reading_device_id("plug-1:01"));
    BOOST_TEST(!is_valid_reading_device_id("plug-1:"));
    BOOST_TEST(!is_valid_reading_device_id(":1"));
    BOOST_TEST(!is_valid_id("plug-1:1"));  // the registry never holds channels
    BOOST_TEST(parent_device_id("plug-1:2") == "plug-1");
    BOOST_TEST(parent_device_id("plug-1") == "plug-1");
}

// What hub.partition splits by: the device a topic names, which is also the (parent) device of
// everything decoded from it.
BOOST_FIXTURE_TEST_CASE(the_device_a_topic_names, DecoderFixture) {
    const std::pair<std::string, std::string> cases[] = {
        {"energy/plug-1/reading", "plug-1"},
        {"tele/sonoff-desk/SENSOR", "sonoff-desk"},
        {"shellyplus2pm-c4d8d5500a10/status/switch:1", "shellyplus2pm-c4d8d5500a10"},
        {"shellies/shellyplug-s-1/relay/0/power", "shellyplug-s-1"},
    };
    for (const auto& [topic, device] : cases) {
        BOOST_TEST(decoder->device_of(topic).value_or("?") == device, topic);
        if (!decode(topic, topic.starts_with("energy/") ? R"({"ts":1,"power_w":1})" : "1")) {
            for (const auto& r : out.readings()) BOOST_TEST(parent_device_id(r.device_id) == device);
        }
    }
    BOOST_TEST(!decoder->device_of("weather/today").has_value());
}

BOOST_FIXTURE_TEST_CASE(tasmota_fixtures_map_every_field, DecoderFixture) {
    BOOST_REQUIRE(!decode("tele/sonoff_desk/SENSOR", kSonoffDesk));
    auto r = only();
    BOOST_TEST(r.device_id == "sonoff_desk");
    BOOST_TEST(r.ts_ms == kReceived);  // no zone configured: the receive time
    BOOST_TEST(*r.power_w == 56.0);
    BOOST_TEST(*r.voltage_v == 234.0);
    BOOST_TEST(*r.current_a == 0.392);
    BOOST_TEST(near(*r.energy_wh, 514153.0));  // Total kWh -> Wh
    BOOST_TEST(!out.presence.has_value());

    BOOST_REQUIRE(!decode("tele/tasmota_A1B2C3/SENSOR", kTasmotaA1B2C3));
    r = only();
    BOOST_TEST(r.device_id == "tasmota_A1B2C3");
    BOOST_TEST(*r.power_w == 32.0);
    BOOST_TEST(*r.voltage_v == 238.0);
    BOOST_TEST(*r.current_a == 0.148);
    BOOST_TEST(near(*r.energy_wh, 14687.92));

    BOOST_REQUIRE(!decode("tele/oldplug/SENSOR", kOldPlug));  // older firmware: no TotalStartTime
    r = only();
    BOOST_TEST(*r.power_w == 5.0);
    BOOST_TEST(*r.voltage_v == 214.0);
    BOOST_TEST(*r.current_a == 0.241);
    BOOST_TEST(near(*r.energy_wh, 6.0));
}

BOOST_FIXTURE_TEST_CASE(tasmota_presence_and_messages_without_energy, DecoderFixture) {
    BOOST_REQUIRE(!decode("tele/tasmota_9CF9D1/SENSOR", kNoMeter));  // a plug without a meter
    BOOST_TEST(out.empty());
    BOOST_REQUIRE(!decode("tele/tasmota_9CF9D1/LWT", "Online"));
    BOOST_TEST_REQUIRE(out.presence.has_value());
    BOOST_TEST(out.presence->device_id == "tasmota_9CF9D1");
    BOOST_TEST(out.presence->online);
    BOOST_TEST(out.readings().empty());
    BOOST_REQUIRE(!decode("tele/tasmota_9CF9D1/LWT", "Offline"));
    BOOST_TEST(!out.presence->online);
    BOOST_REQUIRE(
        !decode("tele/tasmota_9CF9D1/STATE",
                R"({"Time":"2023-02-15T00:17:44","Uptime":"28T05:01:40","POWER1":"OFF","Wifi":{"AP":1,"RSSI":84}})"));
    BOOST_TEST(out.presence->online);
    BOOST_REQUIRE(!decode("tele/tasmota_9CF9D1/INFO1", R"({"Module":"Sonoff Basic"})"));
    BOOST_TEST(out.empty());
}

BOOST_AUTO_TEST_CASE(tasmota_local_time_is_resolved_with_the_zone) {
    FixedOffset berlin_summer(7200);
    ParserLimits limits;
    limits.backfill_window_ms = 10 * kYearMs;  // the fixtures are from past years
    DecoderFixture f(&berlin_summer, limits);
    BOOST_REQUIRE(!f.decode("tele/sonoff_desk/SENSOR", kSonoffDesk));
    BOOST_TEST(f.only().ts_ms == utc("2023-05-19T18:52:56Z"));

    // An offset in Time (SetOption52) is used as it is, whatever the zone.
    BOOST_REQUIRE(!f.decode("tele/p/SENSOR", R"({"Time":"2025-11-28T10:59:00+01:00","ENERGY":{"Power":1}})"));
    BOOST_TEST(f.only().ts_ms == kNow - 60'000);

    // Without a zone, Time is checked but the reading is dated by the receive time.
    DecoderFixture no_zone;
    BOOST_REQUIRE(!no_zone.decode("tele/p/SENSOR", R"({"Time":"2025-11-28T11:59:00","ENERGY":{"Power":1}})"));
    BOOST_TEST(no_zone.only().ts_ms == kReceived);
}

BOOST_AUTO_TEST_CASE(local_times_around_daylight_saving_changes) {
    // Spring: at 2026-03-29T01:00Z local time jumps from 02:00 to 03:00 (+1 h -> +2 h).
    const std::int64_t spring = utc("2026-03-29T01:00:00Z") / 1000;
    ChangingZone cest(spring, 3600, 7200);
    BOOST_TEST(resolve_local_time(utc("2026-03-29T01:30:00Z"), cest, 0) == utc("2026-03-29T00:30:00Z"));
    BOOST_TEST(resolve_local_time(utc("2026-03-29T03:30:00Z"), cest, 0) == utc("2026-03-29T01:30:00Z"));
    // 02:30 never happens that night: read with the offset before the change.
    BOOST_TEST(resolve_local_time(utc("2026-03-29T02:30:00Z"), cest, 0) == utc("2026-03-29T01:30:00Z"));

    // Autumn: at 2026-10-25T01:00Z local time goes back from 03:00 to 02:00; 02:30 happens twice.
    const std::int64_t autumn = utc("2026-10-25T01:00:00Z") / 1000;
    ChangingZone cet(autumn, 7200, 3600);
    const auto first = utc("2026-10-25T00:30:00Z"), second = utc("2026-10-25T01:30:00Z");
    BOOST_TEST(resolve_local_time(utc("2026-10-25T02:30:00Z"), cet, first + 5000) == first);
    BOOST_TEST(resolve_local_time(utc("2026-10-25T02:30:00Z"), cet, second + 5000) == second);
}

BOOST_FIXTURE_TEST_CASE(tasmota_channel_arrays_become_sub_devices, DecoderFixture) {
    // A Shelly 2.5 running Tasmota with per-channel totals (SetOption129).
    BOOST_REQUIRE(!decode(
        "tele/tasmota_228C3D/SENSOR",
        R"({"Time":"2025-11-28T09:59:59","Switch1":"ON","Switch2":"ON","ANALOG":{"Temperature":37.7},)"
        R"("ENERGY":{"TotalStartTime":"2023-01-17T18:35:56","Total":[0.205,0.242],"Yesterday":[0.003,0.005],)"
        R"("Today":[0.000,0.000],"Period":[0.0,0.0],"Power":[12.5,34],"ApparentPower":[0.0,0.0],)"
        R"("ReactivePower":[0.0,0.0],"Factor":[0.00,0.00],"Frequency":50,"Voltage":230,"Current":[0.054,0.148]}})"));
    BOOST_TEST(out.readings().size() == 3u);
    auto one = reading_of("tasmota_228C3D:1"), two = reading_of("tasmota_228C3D:2");
    BOOST_TEST(*one.power_w == 12.5);
    BOOST_TEST(near(*one.energy_wh, 205.0));
    BOOST_TEST(*one.voltage_v == 230.0);  // one voltage, shared by both channels
    BOOST_TEST(*one.current_a == 0.054);
    BOOST_TEST(*two.power_w == 34.0);
    BOOST_TEST(near(*two.energy_wh, 242.0));
    BOOST_TEST(*two.voltage_v == 230.0);
    BOOST_TEST(*two.current_a == 0.148);
    // The device's own reading: the sums of its channels' totals and power.
    auto device = reading_of("tasmota_228C3D");
    BOOST_TEST(near(*device.energy_wh, 447.0));
    BOOST_TEST(*device.power_w == 46.5);
    BOOST_TEST(*device.voltage_v == 230.0);
    BOOST_TEST(!device.current_a.has_value());

    // By default Tasmota sums Total over the channels: that total is the device's own reading.
    BOOST_REQUIRE(
        !decode("tele/dual/SENSOR", R"({"ENERGY":{"Total":1.5,"Power":[10,20],"Voltage":231,"Current":[0.1,0.2]}})"));
    BOOST_TEST(out.readings().size() == 3u);
    BOOST_TEST(*reading_of("dual:1").power_w == 10.0);
    BOOST_TEST(!reading_of("dual:1").energy_wh.has_value());
    BOOST_TEST(*reading_of("dual:2").current_a == 0.2);
    auto whole = reading_of("dual");
    BOOST_TEST(near(*whole.energy_wh, 1500.0));
    BOOST_TEST(*whole.power_w == 30.0);  // net power: the sum of the channels
    BOOST_TEST(*whole.voltage_v == 231.0);
}

BOOST_FIXTURE_TEST_CASE(shelly_gen2_fixtures_map_every_field, DecoderFixture) {
    BOOST_REQUIRE(!decode("shellyplugus-083af2018c80/status/switch:0", kPlugUs));
    auto r = only();
    BOOST_TEST(r.device_id == "shellyplugus-083af2018c80:0");
    BOOST_TEST(r.ts_ms == kReceived);  // minute_ts is the by_minute window, not the time of the status
    BOOST_TEST(*r.power_w == 10.7);
    BOOST_TEST(*r.voltage_v == 120.7);
    BOOST_TEST(*r.current_a == 0.133);
    BOOST_TEST(*r.energy_wh == 46791.262);  // aenergy.total is already Wh

    BOOST_REQUIRE(!decode("shellyplus2pm-c4d8d5500a10/status/switch:0", k2pm0));
    r = only();
    BOOST_TEST(r.device_id == "shellyplus2pm-c4d8d5500a10:0");
    BOOST_TEST(*r.power_w == 0.0);
    BOOST_TEST(*r.voltage_v == 237.0);
    BOOST_TEST(*r.current_a == 0.0);
    BOOST_TEST(*r.energy_wh == 62758.285);
    BOOST_REQUIRE(!decode("shellyplus2pm-c4d8d5500a10/status/switch:1", k2pm1));
    r = only();
    BOOST_TEST(r.device_id == "shellyplus2pm-c4d8d5500a10:1");
    BOOST_TEST(*r.voltage_v == 237.1);
    BOOST_TEST(*r.energy_wh == 61917.211);

    BOOST_REQUIRE(!decode("shellyplus1pm-441793a0b2c4/status/switch:0", k1pm));
    r = only();
    BOOST_TEST(*r.energy_wh == 0.0);
    BOOST_TEST(*r.voltage_v == 123.3);

    BOOST_REQUIRE(!decode("shellyplus1pm-441793a0b2c4/online", "true"));
    BOOST_TEST_REQUIRE(out.presence.has_value());
    BOOST_TEST(out.presence->device_id == "shellyplus1pm-441793a0b2c4");
    BOOST_TEST(out.presence->online);
    BOOST_REQUIRE(!decode("shellyplus1pm-441793a0b2c4/online", "false"));
    BOOST_TEST(!out.presence->online);

    // A metering-only device (Plus PM Mini) and a cover report the same fields.
    BOOST_REQUIRE(
        !decode("shellypmmini-aa/status/pm1:0",
                R"({"id":0,"voltage":229.8,"current":0.41,"apower":88.2,"freq":50,"aenergy":{"total":120.5}})"));
    BOOST_TEST(only().device_id == "shellypmmini-aa:0");
    BOOST_TEST(*only().power_w == 88.2);
}

BOOST_FIXTURE_TEST_CASE(shelly_components_without_a_meter_are_ignored, DecoderFixture) {
    BOOST_REQUIRE(!decode("shellyplus1-aa/status/sys", R"({"mac":"AA","uptime":12})"));
    BOOST_TEST(out.empty());
    BOOST_REQUIRE(!decode("shellyplus1-aa/status/input:0", R"({"id":0,"state":false})"));
    BOOST_TEST(out.empty());
    BOOST_REQUIRE(!decode("shellyplus1-aa/status/switch:0", R"({"id":0,"source":"init","output":true})"));
    BOOST_TEST(out.empty());                                   // a Plus 1 has a relay and no meter
    BOOST_REQUIRE(!decode("energyhub/status/hub", "online"));  // matches "+/status/+": not a Shelly component
    BOOST_TEST(out.empty());
    BOOST_REQUIRE(
        !decode("shellyplus1-aa/events/rpc",
                R"({"src":"shellyplus1-aa","dst":"x","method":"NotifyEvent","params":{"ts":1,"events":[]}})"));
    BOOST_TEST(out.empty());
}

BOOST_FIXTURE_TEST_CASE(shelly_notify_status_is_merged_onto_the_last_status, DecoderFixture) {
    BOOST_REQUIRE(!decode("shellyplugus-083af2018c80/status/switch:0", kPlugUs));
    const std::string frame =
        R"({"src":"shellyplugus-083af2018c80","dst":"shellyplugus-083af2018c80/events",)"
        R"("method":"NotifyStatus","params":{"ts":1764323995.25,"switch:0":{"id":0,"apower":55.5}}})";
    BOOST_REQUIRE(!decode("shellyplugus-083af2018c80/events/rpc", frame));
    auto r = only();
    BOOST_TEST(r.device_id == "shellyplugus-083af2018c80:0");
    BOOST_TEST(r.ts_ms == 1'764'323'995'250);  // params.ts, Unix seconds
    BOOST_TEST(*r.power_w == 55.5);            // the change
    BOOST_TEST(*r.voltage_v == 120.7);         // the rest from the last status
    BOOST_TEST(*r.energy_wh == 46791.262);

    // Another change on top of the merged one.
    BOOST_REQUIRE(!decode(
        "shellyplugus-083af2018c80/events/rpc",
        R"({"method":"NotifyStatus","params":{"ts":1764323996,"switch:0":{"aenergy":{"total":46792.0,"minute_ts":1764323940}}}})"));
    BOOST_TEST(*only().power_w == 55.5);
    BOOST_TEST(*only().energy_wh == 46792.0);

    // A change to a component never seen, without power or energy, carries nothing yet.
    BOOST_REQUIRE(!decode("shellyplus2pm-bb/events/rpc",
                          R"({"method":"NotifyStatus","params":{"ts":1764323996,"switch:1":{"id":1,"current":0.2}}})"));
    BOOST_TEST(out.empty());
    // Several components in one frame; other components beside them are skipped.
    BOOST_REQUIRE(!decode("shellyplus2pm-bb/events/rpc",
                          R"({"method":"NotifyStatus","params":{"ts":1764323997,"sys":{"uptime":5},)"
                          R"("switch:0":{"apower":3},"switch:1":{"apower":4}}})"));
    BOOST_TEST(out.readings().size() == 2u);
    BOOST_TEST(*reading_of("shellyplus2pm-bb:1").current_a == 0.2);  // merged with the change before
    BOOST_TEST(*reading_of("shellyplus2pm-bb:1").power_w == 4.0);

    // A full status replaces what was known.
    BOOST_REQUIRE(
        !decode("shellyplus2pm-bb/events/rpc",
                R"({"method":"NotifyFullStatus","params":{"ts":1764323998,"switch:1":{"id":1,"apower":9}}})"));
    BOOST_TEST(*only().power_w == 9.0);
    BOOST_TEST(!only().current_a.has_value());
}

BOOST_FIXTURE_TEST_CASE(shelly_gen1_fixtures_map_every_field, DecoderFixture) {
    BOOST_REQUIRE(!decode("shellies/shellyplug-s-040BAD/relay/0/power", "56.82"));
    auto r = only();
    BOOST_TEST(r.device_id == "shellyplug-s-040BAD:0");
    BOOST_TEST(r.ts_ms == kReceived);
    BOOST_TEST(*r.power_w == 56.82);
    BOOST_TEST(!r.energy_wh.has_value());

    BOOST_REQUIRE(!decode("shellies/shellyplug-s-040BAD/relay/0/energy", "1380420"));
    r = only();
    BOOST_TEST(near(*r.energy_wh, 1380420.0 / 60.0));  // watt-minutes -> Wh
    BOOST_TEST(*r.power_w == 56.82);                   // the last known power comes along

    BOOST_REQUIRE(!decode("shellies/shellyplug-s-040BAD/online", "true"));
    BOOST_TEST_REQUIRE(out.presence.has_value());
    BOOST_TEST(out.presence->device_id == "shellyplug-s-040BAD");
    BOOST_TEST(out.presence->online);

    BOOST_REQUIRE(!decode("shellies/shellyplug-s-040BAD/relay/0/overpower_value", "0"));
    BOOST_TEST(out.empty());
}

BOOST_FIXTURE_TEST_CASE(native_readings_go_through_the_same_decoder, DecoderFixture) {
    BOOST_REQUIRE(!decode("energy/plug-1/reading", R"({"ts":1764323990000,"power_w":5,"energy_wh":7})"));
    BOOST_TEST(only().device_id == "plug-1");
    BOOST_TEST(only().ts_ms == 1764323990000);
    BOOST_TEST(*only().energy_wh == 7.0);
}

BOOST_FIXTURE_TEST_CASE(garbage_in_each_format_is_rejected_with_a_reason, DecoderFixture) {
    std::string many_channels = R"({"ENERGY":{"Power":[)";
    for (int i = 0; i < 17; ++i) many_channels += (i ? ",1" : "1");
    many_channels += "]}}";
    const std::vector<BadMessage> cases = {
        {"no route", "stat/plug/RESULT", R"({"POWER":"ON"})", RejectReason::bad_topic},
        {"tasmota not json", "tele/plug/SENSOR", "Power 56", RejectReason::malformed_json},
        {"tasmota array root", "tele/plug/SENSOR", "[1,2]", RejectReason::not_an_object},
        {"tasmota ENERGY string", "tele/plug/SENSOR", R"({"ENERGY":"56 W"})", RejectReason::wrong_type},
        {"tasmota Power string", "tele/plug/SENSOR", R"({"ENERGY":{"Power":"56"}})", RejectReason::wrong_type},
        {"tasmota Power null", "tele/plug/SENSOR", R"({"ENERGY":{"Power":null}})", RejectReason::wrong_type},
        {"tasmota huge number", "tele/plug/SENSOR", R"({"ENERGY":{"Power":1e400}})", RejectReason::malformed_json},
        {"tasmota only voltage", "tele/plug/SENSOR", R"({"ENERGY":{"Voltage":230}})", RejectReason::no_measurement},
        {"tasmota negative Total", "tele/plug/SENSOR", R"({"ENERGY":{"Total":-1.5}})", RejectReason::negative_energy},
        {"tasmota Total beyond Wh", "tele/plug/SENSOR", R"({"ENERGY":{"Total":[1,1e306]}})", RejectReason::non_finite},
        {"tasmota Time garbage", "tele/plug/SENSOR", R"({"Time":"yesterday","ENERGY":{"Power":1}})",
         RejectReason::bad_timestamp},
        {"tasmota Time number", "tele/plug/SENSOR", R"({"Time":1700000000,"ENERGY":{"Power":1}})",
         RejectReason::bad_timestamp},
        {"tasmota Time far ahead", "tele/plug/SENSOR", R"({"Time":"2030-01-01T00:00:00Z","ENERGY":{"Power":1}})",
         RejectReason::timestamp_out_of_window},
        {"tasmota arrays differ", "tele/plug/SENSOR", R"({"ENERGY":{"Power":[1,2],"Current":[1,2,3]}})",
         RejectReason::bad_channel},
        {"tasmota empty array", "tele/plug/SENSOR", R"({"ENERGY":{"Power":[]}})", RejectReason::bad_channel},
        {"tasmota 17 channels", "tele/plug/SENSOR", many_channels, RejectReason::bad_channel},
        {"tasmota array of strings", "tele/plug/SENSOR", R"({"ENERGY":{"Power":["1","2"]}})", RejectReason::wrong_type},
        {"tasmota duplicate ENERGY", "tele/plug/SENSOR", R"({"ENERGY":{"Power":1},"ENERGY":{"Power":2}})",
         RejectReason::duplicate_key},
        {"tasmota deep nesting", "tele/plug/SENSOR",
         R"({"ENERGY":{"Power":1},"x":)" + std::string(40, '[') + std::string(40, ']') + "}",
         RejectReason::malformed_json},
        {"tasmota too large", "tele/plug/SENSOR", R"({"ENERGY":{"Power":1},"pad":")" + std::string(20'000, 'a') + "\"}",
         RejectReason::payload_too_large},
        {"tasmota LWT garbage", "tele/plug/LWT", "Maybe", RejectReason::bad_value},
        {"tasmota STATE garbage", "tele/plug/STATE", "{", RejectReason::malformed_json},
        {"tasmota bad id", "tele/plug$1/SENSOR", R"({"ENERGY":{"Power":1}})", RejectReason::invalid_device_id},
        {"shelly not json", "shellyplus1pm-aa/status/switch:0", "apower=5", RejectReason::malformed_json},
        {"shelly number root", "shellyplus1pm-aa/status/switch:0", "5", RejectReason::not_an_object},
        {"shelly apower string", "shellyplus1pm-aa/status/switch:0", R"({"apower":"5"})", RejectReason::wrong_type},
        {"shelly aenergy number", "shellyplus1pm-aa/status/switch:0", R"({"aenergy":5})", RejectReason::wrong_type},
        {"shelly total string", "shellyplus1pm-aa/status/switch:0", R"({"aenergy":{"total":"5"}})",
         RejectReason::wrong_type},
        {"shelly negative total", "shellyplus1pm-aa/status/switch:0", R"({"apower":1,"aenergy":{"total":-5}})",
         RejectReason::negative_energy},
        {"shelly channel word", "shellyplus1pm-aa/status/switch:x", R"({"apower":1})", RejectReason::bad_channel},
        {"shelly channel 99", "shellyplus1pm-aa/status/switch:99", R"({"apower":1})", RejectReason::bad_channel},
        {"shelly id mismatch", "shellyplus1pm-aa/status/switch:0", R"({"id":1,"apower":1})", RejectReason::bad_channel},
        {"shelly duplicate apower", "shellyplus1pm-aa/status/switch:0", R"({"apower":1,"apower":2})",
         RejectReason::duplicate_key},
        {"shelly online garbage", "shellyplus1pm-aa/online", "maybe", RejectReason::bad_value},
        {"shelly rpc params number", "shellyplus1pm-aa/events/rpc", R"({"method":"NotifyStatus","params":5})",
         RejectReason::wrong_type},
        {"shelly rpc ts string", "shellyplus1pm-aa/events/rpc",
         R"({"method":"NotifyStatus","params":{"ts":"now","switch:0":{"apower":1}}})", RejectReason::bad_timestamp},
        {"shelly rpc ts 2001", "shellyplus1pm-aa/events/rpc",
         R"({"method":"NotifyStatus","params":{"ts":978307200,"switch:0":{"apower":1}}})",
         RejectReason::timestamp_out_of_window},
        {"shelly rpc component string", "shellyplus1pm-aa/events/rpc",
         R"({"method":"NotifyStatus","params":{"ts":1764323995,"switch:0":"on"}})", RejectReason::wrong_type},
        {"shelly rpc truncated", "shellyplus1pm-aa/events/rpc", R"({"method":"NotifyStatus","params":{)",
         RejectReason::malformed_json},
        {"shelly bad id", "shelly plus/status/switch:0", R"({"apower":1})", RejectReason::invalid_device_id},
        {"gen1 power word", "shellies/plug-s/relay/0/power", "high", RejectReason::wrong_type},
        {"gen1 power empty", "shellies/plug-s/relay/0/power", "", RejectReason::wrong_type},
        {"gen1 power json", "shellies/plug-s/relay/0/power", R"({"power":5})", RejectReason::wrong_type},
        {"gen1 power nan", "shellies/plug-s/relay/0/power", "nan", RejectReason::non_finite},
        {"gen1 power huge", "shellies/plug-s/relay/0/power", "1e999", RejectReason::non_finite},
        {"gen1 negative energy", "shellies/plug-s/relay/0/energy", "-60", RejectReason::negative_energy},
        {"gen1 relay word", "shellies/plug-s/relay/x/power", "5", RejectReason::bad_channel},
        {"gen1 online garbage", "shellies/plug-s/online", "1", RejectReason::bad_value},
        {"gen1 too large", "shellies/plug-s/relay/0/power", std::string(100, '1'), RejectReason::payload_too_large},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.name) {
            auto r = decode(c.topic, c.payload);
            BOOST_TEST_REQUIRE(r.has_value());
            BOOST_TEST(reject_reason_name(r->reason) == reject_reason_name(c.reason));
            BOOST_TEST(out.empty());
        }
    }
    // The pipeline goes on: the next good message of each format decodes.
    BOOST_TEST(!decode("tele/sonoff_desk/SENSOR", kSonoffDesk));
    BOOST_TEST(!decode("shellyplugus-083af2018c80/status/switch:0", kPlugUs));
    BOOST_TEST(!decode("shellies/shellyplug-s-040BAD/relay/0/power", "56.82"));
}

// A registry in memory: channels are owned by their device, counters come from nowhere.
class InMemoryRegistry final : public DeviceLookupPort {
public:
    std::map<std::string, DeviceRecord, std::less<>> devices;
    std::vector<std::string> asked;
    LookupStatus lookup(std::string_view id, DeviceInfo& out) override {
        asked.emplace_back(id);
        auto it = devices.find(parent_device_id(id));
        if (it == devices.end()) return LookupStatus::unknown;
        out = DeviceInfo{it->second, {}};
        return LookupStatus::found;
    }
};

BOOST_FIXTURE_TEST_CASE(counter_resets_of_each_format_go_through_the_enricher, DecoderFixture) {
    InMemoryRegistry registry;
    registry.devices["sonoff_desk"] = {"sonoff_desk", "alice", "plug", "Desk"};
    registry.devices["shellyplus2pm-c4d8d5500a10"] = {"shellyplus2pm-c4d8d5500a10", "bob", "meter", "Kitchen"};
    ManualClock clock;
    DeviceTable devices{100};
    Enricher enricher(devices, registry, 5000, clock);
    EnrichedReading e;

    // Tasmota Total in kWh: 514.153 -> 514.160 -> reset to 0.002 -> 0.010.
    std::vector<std::optional<double>> tasmota_deltas;
    std::int64_t t = kReceived - 10'000;
    for (const char* total : {"514.153", "514.160", "0.002", "0.010"}) {
        BOOST_REQUIRE(
            !decode("tele/sonoff_desk/SENSOR", std::string(R"({"ENERGY":{"Power":56,"Total":)") + total + "}}", t));
        BOOST_REQUIRE(enricher.enrich(only(), e) == LookupStatus::found);
        BOOST_TEST(e.user_id == "alice");
        tasmota_deltas.push_back(e.energy_delta_wh);
        t += 1000;
    }
    BOOST_TEST(!tasmota_deltas[0].has_value());
    BOOST_TEST(near(*tasmota_deltas[1], 7.0));
    BOOST_TEST(near(*tasmota_deltas[2], 2.0));  // a reset: what was used since, never negative
    BOOST_TEST(near(*tasmota_deltas[3], 8.0));

    // Shelly aenergy.total in Wh on channel 1 of a 2PM: 61917.211 -> 61920 -> reset to 1.5.
    std::vector<std::optional<double>> shelly_deltas;
    for (const char* total : {"61917.211", "61920", "1.5", "4"}) {
        BOOST_REQUIRE(!decode("shellyplus2pm-c4d8d5500a10/status/switch:1",
                              std::string(R"({"id":1,"apower":10,"aenergy":{"total":)") + total + "}}", t));
        BOOST_REQUIRE(enricher.enrich(only(), e) == LookupStatus::found);
        BOOST_TEST(e.reading.device_id == "shellyplus2pm-c4d8d5500a10:1");  // stored under the channel
        BOOST_TEST(e.user_id == "bob");                                     // owned by the device
        BOOST_TEST(e.device_type == "meter");
        shelly_deltas.push_back(e.energy_delta_wh);
        t += 1000;
    }
    BOOST_TEST(!shelly_deltas[0].has_value());
    BOOST_TEST(near(*shelly_deltas[1], 2.789));
    BOOST_TEST(near(*shelly_deltas[2], 1.5));
    BOOST_TEST(near(*shelly_deltas[3], 2.5));

    // Channel 0 keeps its own counter; the owner was looked up once for both channels.
    BOOST_REQUIRE(!decode("shellyplus2pm-c4d8d5500a10/status/switch:0", k2pm0, t));
    BOOST_REQUIRE(enricher.enrich(only(), e) == LookupStatus::found);
    BOOST_TEST(!e.energy_delta_wh.has_value());
    const auto record = enricher.record("shellyplus2pm-c4d8d5500a10:0");
    BOOST_TEST_REQUIRE(record.has_value());
    BOOST_TEST(record->name == "Kitchen");

    // A channel of an unknown device is unknown.
    BOOST_REQUIRE(!decode("ghost/status/switch:0", k2pm0, t));
    BOOST_TEST((enricher.enrich(only(), e) == LookupStatus::unknown));

    // A registry change of the device forgets the owner of every channel.
    registry.devices["shellyplus2pm-c4d8d5500a10"].user_id = "carol";
    enricher.invalidate("shellyplus2pm-c4d8d5500a10");
    BOOST_REQUIRE(!decode("shellyplus2pm-c4d8d5500a10/status/switch:1", R"({"id":1,"apower":10,"aenergy":{"total":5}})",
                          t + 1000));
    BOOST_REQUIRE(enricher.enrich(only(), e) == LookupStatus::found);
    BOOST_TEST(e.user_id == "carol");
    BOOST_TEST(near(*e.energy_delta_wh, 1.0));  // the counter in memory carried on
}

BOOST_AUTO_TEST_CASE(device_topics_in_the_config) {
    auto c = parse_config(
        "mqtt:\n"
        "  topics:\n"
        "    devices:\n"
        "      - {format: tasmota, filter: 'tele/+/+'}\n"
        "      - {format: shelly, filter: '+/status/+'}\n"
        "      - {format: shelly_gen1, filter: 'shellies/+/relay/+/+'}\n"
        "    discovery_prefix: ha\n"
        "  tasmota_timezone: Europe/Berlin\n",
        "test.yaml");
    BOOST_TEST_REQUIRE(c.mqtt.device_topics.size() == 3u);
    BOOST_TEST((c.mqtt.device_topics[0].format == PayloadFormat::tasmota));
    BOOST_TEST(c.mqtt.device_topics[1].filter == "+/status/+");
    BOOST_TEST((c.mqtt.device_topics[2].format == PayloadFormat::shelly_gen1));
    BOOST_TEST(c.mqtt.discovery_prefix == "ha");
    BOOST_TEST(c.mqtt.tasmota_timezone == "Europe/Berlin");
    BOOST_TEST(parse_config("", "test.yaml").mqtt.device_topics.empty());
    BOOST_TEST(parse_config("", "test.yaml").mqtt.discovery_prefix == "homeassistant");

    auto error_of = [](const std::string& yaml) -> std::string {
        try {
            parse_config(yaml, "test.yaml");
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "";
    };
    BOOST_TEST(error_of("mqtt:\n  topics:\n    devices:\n      - {format: zigbee, filter: 'z/+'}\n") ==
               "test.yaml:4: mqtt.topics.devices[0].format: must be tasmota, shelly or shelly_gen1 (the native format "
               "uses mqtt.topics.reading)");
    BOOST_TEST(error_of("mqtt:\n  topics:\n    devices:\n      - {format: tasmota, filter: 'tele/x/SENSOR'}\n")
                   .find("test.yaml:4: mqtt.topics.devices[0].filter: topic filter needs a '+'") == 0u);
    BOOST_TEST(error_of("mqtt:\n  topics:\n    devices:\n      - {format: tasmota, filter: 'energy/+/reading'}\n") ==
               "test.yaml:4: mqtt.topics.devices[0].filter: is already subscribed");
    BOOST_TEST(error_of("mqtt:\n  topics:\n    devices:\n      - {format: tasmota, filter: 'a/+', qos: 1}\n") ==
               "test.yaml:4: mqtt.topics.devices[0].qos: unknown key");
    BOOST_TEST(error_of("mqtt:\n  topics:\n    devices: tele/+/+\n") ==
               "test.yaml:3: mqtt.topics.devices: must be a list of {format, filter}");
    BOOST_TEST(
        error_of("mqtt:\n  tasmota_timezone: Mars/Olympus\n") ==
        "test.yaml:2: mqtt.tasmota_timezone: unknown time zone 'Mars/Olympus' (an IANA name such as Europe/Berlin)");
}

BOOST_AUTO_TEST_CASE(the_simulator_speaks_what_the_hub_reads) {
    FixedOffset utc_zone(0);
    DecoderFixture f(&utc_zone);
    sim::VendorBuffer buffer;
    sim::VendorState tasmota_state, shelly_state;
    const sim::Sample first{153.24, 12345.6789, 230.04, 0.66549}, later{12.0, 12346.5, 229.6, 0.052};
    const std::int64_t t0 = kNow - 60'000;

    BOOST_TEST(sim::topic_for(sim::Format::tasmota, "energy", "sim-00001") == "tele/sim-00001/SENSOR");
    BOOST_TEST(sim::topic_for(sim::Format::shelly, "energy", "sim-00001") == "sim-00001/status/switch:0");
    BOOST_TEST(sim::topic_for(sim::Format::native, "energy", "sim-00001") == "energy/sim-00001/reading");
    BOOST_TEST((sim::format_of("mixed", 4) == sim::Format::tasmota));
    BOOST_TEST(!sim::format_of("zigbee", 0).has_value());

    sim::format_tasmota(buffer, t0, first, tasmota_state);
    const auto tasmota = sim::format_tasmota(buffer, t0 + 61'000, later, tasmota_state);
    BOOST_REQUIRE(!f.decode("tele/sim-00001/SENSOR", std::string(tasmota)));
    BOOST_TEST(f.only().device_id == "sim-00001");
    BOOST_TEST(f.only().ts_ms == (t0 + 61'000) / 1000 * 1000);  // whole seconds, UTC
    BOOST_TEST(*f.only().power_w == 12.0);
    BOOST_TEST(std::fabs(*f.only().energy_wh - 12346.5) < 0.01);
    BOOST_TEST(*f.only().voltage_v == 230.0);  // Tasmota prints whole volts
    BOOST_TEST(*f.only().current_a == 0.052);

    sim::format_shelly(buffer, t0, first, shelly_state);
    const auto shelly = sim::format_shelly(buffer, t0 + 61'000, later, shelly_state);
    BOOST_REQUIRE(!f.decode("sim-00002/status/switch:0", std::string(shelly)));
    BOOST_TEST(f.only().device_id == "sim-00002:0");
    BOOST_TEST(*f.only().power_w == 12.0);
    BOOST_TEST(*f.only().energy_wh == 12346.5);
    BOOST_TEST(*f.only().voltage_v == 229.6);
    BOOST_TEST(std::string(shelly).find(R"("by_minute":[821.100,0.000,0.000])") != std::string::npos, shelly);
}

BOOST_AUTO_TEST_SUITE_END()
