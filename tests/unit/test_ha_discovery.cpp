// Home Assistant discovery configs and the announcer that publishes and clears them.
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "pipeline/device_announcer.hpp"
#include "pipeline/ha_discovery.hpp"

using namespace energyhub;

namespace {

struct Message {
    std::string topic;
    std::string payload;
    int qos;
    bool retained;
};

class Recorder final : public MessageSink {
public:
    std::vector<Message> messages;
    std::size_t queued = 0;  // the backlog it reports
    std::uint64_t reconnected = 0;
    std::size_t backlog() const override { return queued; }
    std::uint64_t reconnects() const override { return reconnected; }
    void publish(const std::string& topic, std::string_view payload, int qos, bool retained) override {
        messages.push_back({topic, std::string(payload), qos, retained});
    }
    std::vector<Message> take() { return std::exchange(messages, {}); }
};

const DeviceRecord kPlug{"plug_1", "alice", "plug", "Desk lamp"};
const DeviceRecord kMeter{"shellyplus2pm-c4d8d5500a10", "bob", "meter", ""};

Reading reading_with(const std::string& id, bool power, bool energy, bool voltage = false, bool current = false) {
    Reading r;
    r.device_id = id;
    r.ts_ms = 1;
    if (power) r.power_w = 10;
    if (energy) r.energy_wh = 20;
    if (voltage) r.voltage_v = 230;
    if (current) r.current_a = 0.1;
    return r;
}

HaDiscoverySettings settings() {
    HaDiscoverySettings s;
    s.prefix = "homeassistant";
    s.state_prefix = "energy";
    s.hub_status_topic = "energyhub/status/hub";
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ha_discovery)

BOOST_AUTO_TEST_CASE(power_config_has_what_home_assistant_requires) {
    auto topic = ha_discovery_topic(settings(), "plug_1", HaSensor::power);
    BOOST_TEST(topic == "homeassistant/sensor/energyhub/plug__1_power/config");
    auto j = nlohmann::json::parse(ha_discovery_payload(settings(), kPlug, "plug_1", HaSensor::power));
    BOOST_TEST(j["unique_id"] == "energyhub_plug__1_power");
    BOOST_TEST(j["name"] == "Power");
    BOOST_TEST(j["state_topic"] == "energy/alice/plug_1/state");
    BOOST_TEST(j["device_class"] == "power");
    BOOST_TEST(j["state_class"] == "measurement");
    BOOST_TEST(j["unit_of_measurement"] == "W");
    BOOST_TEST(j["value_template"].get<std::string>().find("value_json.power_w") != std::string::npos);
    BOOST_TEST(j["device"]["identifiers"] == nlohmann::json::array({"energyhub_plug__1"}));
    BOOST_TEST(j["device"]["name"] == "Desk lamp");
    BOOST_TEST(j["device"]["model"] == "plug");
    BOOST_TEST(j["availability_mode"] == "all");
    BOOST_TEST_REQUIRE(j["availability"].size() == 2u);
    BOOST_TEST(j["availability"][0]["topic"] == "energyhub/status/hub");
    BOOST_TEST(j["availability"][1]["topic"] == "energy/alice/plug_1/availability");
    BOOST_TEST(j["availability"][1]["payload_available"] == "online");
    BOOST_TEST(j["availability"][1]["payload_not_available"] == "offline");
    BOOST_TEST(j["origin"]["name"] == "energyhub");
}

BOOST_AUTO_TEST_CASE(energy_is_in_kwh_and_total_increasing) {
    auto j = nlohmann::json::parse(ha_discovery_payload(settings(), kPlug, "plug_1", HaSensor::energy));
    BOOST_TEST(j["device_class"] == "energy");
    BOOST_TEST(j["state_class"] == "total_increasing");
    BOOST_TEST(j["unit_of_measurement"] == "kWh");
    const auto tpl = j["value_template"].get<std::string>();
    BOOST_TEST(tpl.find("value_json.energy_wh / 1000") != std::string::npos);
    BOOST_TEST(tpl.find("is defined") != std::string::npos);  // never 0 for a missing value
    auto v = nlohmann::json::parse(ha_discovery_payload(settings(), kPlug, "plug_1", HaSensor::voltage));
    BOOST_TEST(v["device_class"] == "voltage");
    BOOST_TEST(v["unit_of_measurement"] == "V");
    auto a = nlohmann::json::parse(ha_discovery_payload(settings(), kPlug, "plug_1", HaSensor::current));
    BOOST_TEST(a["device_class"] == "current");
    BOOST_TEST(a["unit_of_measurement"] == "A");
}

BOOST_AUTO_TEST_CASE(channels_are_entities_of_their_device) {
    auto j = nlohmann::json::parse(
        ha_discovery_payload(settings(), kMeter, "shellyplus2pm-c4d8d5500a10:1", HaSensor::power));
    BOOST_TEST(j["name"] == "Channel 1 power");
    BOOST_TEST(j["state_topic"] == "energy/bob/shellyplus2pm-c4d8d5500a10:1/state");
    BOOST_TEST(j["device"]["identifiers"][0] == "energyhub_shellyplus2pm-c4d8d5500a10");
    BOOST_TEST(j["device"]["name"] == "shellyplus2pm-c4d8d5500a10");  // no name registered: the id
    BOOST_TEST(j["availability"][1]["topic"] == "energy/bob/shellyplus2pm-c4d8d5500a10/availability");
    BOOST_TEST(ha_discovery_topic(settings(), "shellyplus2pm-c4d8d5500a10:1", HaSensor::energy) ==
               "homeassistant/sensor/energyhub/shellyplus2pm-c4d8d5500a10_c1_energy/config");
}

BOOST_AUTO_TEST_CASE(object_ids_are_topic_safe_and_distinct) {
    std::set<std::string> seen;
    for (const char* id : {"a.b", "a_b", "a__b", "a_d", "a:1", "a_c1", "a-b", "A.b"}) {
        auto o = ha_object_id(id);
        BOOST_TEST(o.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
                   std::string::npos);
        BOOST_TEST(seen.insert(o).second, id << " collides");
    }
}

BOOST_AUTO_TEST_CASE(announcer_publishes_once_per_sensor_and_clears_on_removal) {
    Recorder sink;
    DeviceTable devices{100};
    DeviceAnnouncer announcer(settings(), true, sink, devices);

    announcer.on_reading(reading_with("plug_1", true, true), kPlug);
    auto first = sink.take();
    BOOST_TEST_REQUIRE(first.size() == 3u);  // availability, power, energy
    BOOST_TEST(first[0].topic == "energy/alice/plug_1/availability");
    BOOST_TEST(first[0].payload == "online");
    BOOST_TEST(first[0].retained);
    BOOST_TEST(first[1].topic == "homeassistant/sensor/energyhub/plug__1_power/config");
    BOOST_TEST(first[2].topic == "homeassistant/sensor/energyhub/plug__1_energy/config");
    for (const auto& m : first) {
        BOOST_TEST(m.retained);
        BOOST_TEST(m.qos == 1);
    }

    announcer.on_reading(reading_with("plug_1", true, true), kPlug);
    BOOST_TEST(sink.take().empty());  // first sight only
    announcer.on_reading(reading_with("plug_1", true, true, true), kPlug);
    auto more = sink.take();
    BOOST_TEST_REQUIRE(more.size() == 1u);  // a sensor seen for the first time
    BOOST_TEST(more[0].topic == "homeassistant/sensor/energyhub/plug__1_voltage/config");

    announcer.on_presence(kPlug, false);
    auto off = sink.take();
    BOOST_TEST_REQUIRE(off.size() == 1u);
    BOOST_TEST(off[0].payload == "offline");
    announcer.on_presence(kPlug, false);
    BOOST_TEST(sink.take().empty());
    announcer.on_reading(reading_with("plug_1", true, false), kPlug);
    auto back = sink.take();
    BOOST_TEST_REQUIRE(back.size() == 1u);
    BOOST_TEST(back[0].payload == "online");  // a reading says it is online again

    // A registry change: announced again on the next reading (the name may have changed).
    announcer.on_changed("plug_1");
    announcer.on_reading(reading_with("plug_1", true, false), {"plug_1", "alice", "plug", "Hall lamp"});
    auto again = sink.take();
    BOOST_TEST_REQUIRE(again.size() == 2u);
    BOOST_TEST(nlohmann::json::parse(again[1].payload)["device"]["name"] == "Hall lamp");

    announcer.on_removed("plug_1");
    auto cleared = sink.take();
    std::set<std::string> empty_topics;
    for (const auto& m : cleared) {
        BOOST_TEST(m.payload.empty());
        BOOST_TEST(m.retained);
        empty_topics.insert(m.topic);
    }
    for (const char* s : {"power", "energy", "voltage", "current"})
        BOOST_TEST(empty_topics.count(std::string("homeassistant/sensor/energyhub/plug__1_") + s + "/config") == 1u);
    BOOST_TEST(empty_topics.count("energy/alice/plug_1/availability") == 1u);
    BOOST_TEST(empty_topics.count("homeassistant/sensor/energyhub/plug__1_c3_power/config") == 1u);  // channels too
}

BOOST_AUTO_TEST_CASE(channels_share_the_availability_of_their_device) {
    Recorder sink;
    DeviceTable devices{100};
    DeviceAnnouncer announcer(settings(), true, sink, devices);
    announcer.on_reading(reading_with("shellyplus2pm-c4d8d5500a10:0", true, true), kMeter);
    announcer.on_reading(reading_with("shellyplus2pm-c4d8d5500a10:1", true, true), kMeter);
    auto msgs = sink.take();
    BOOST_TEST_REQUIRE(msgs.size() == 5u);  // one availability, two sensors per channel
    BOOST_TEST(msgs[0].topic == "energy/bob/shellyplus2pm-c4d8d5500a10/availability");
    BOOST_TEST(msgs[3].topic == "homeassistant/sensor/energyhub/shellyplus2pm-c4d8d5500a10_c1_power/config");

    announcer.on_reading(reading_with("shellyplus2pm-c4d8d5500a10:40", true, false), kMeter);
    sink.take();

    // A registry change announces every channel again on its next reading.
    announcer.on_changed("shellyplus2pm-c4d8d5500a10");
    announcer.on_reading(reading_with("shellyplus2pm-c4d8d5500a10:1", true, true), kMeter);
    BOOST_TEST(sink.take().size() == 3u);  // availability and the channel's two sensors

    announcer.on_removed("shellyplus2pm-c4d8d5500a10");
    std::set<std::string> topics;
    for (const auto& m : sink.take()) topics.insert(m.topic);
    BOOST_TEST(topics.count("homeassistant/sensor/energyhub/shellyplus2pm-c4d8d5500a10_c1_energy/config") == 1u);
    BOOST_TEST(topics.count("homeassistant/sensor/energyhub/shellyplus2pm-c4d8d5500a10_c0_power/config") == 1u);
    // a channel past the numbers always cleared, because it was seen
    BOOST_TEST(topics.count("homeassistant/sensor/energyhub/shellyplus2pm-c4d8d5500a10_c40_power/config") == 1u);
}

BOOST_AUTO_TEST_CASE(announcements_wait_while_the_sink_is_congested) {
    Recorder sink;
    DeviceTable devices{100};
    DeviceAnnouncer announcer(settings(), true, sink, devices);
    sink.queued = 1'000'000;
    announcer.on_reading(reading_with("plug_1", true, true), kPlug);
    BOOST_TEST(sink.take().empty());
    announcer.on_presence(kPlug, false);  // what the device says of itself is not held back
    auto offline = sink.take();
    BOOST_TEST_REQUIRE(offline.size() == 1u);
    BOOST_TEST(offline[0].payload == "offline");
    sink.queued = 0;
    announcer.on_reading(reading_with("plug_1", true, true), kPlug);
    auto later = sink.take();
    BOOST_TEST_REQUIRE(later.size() == 3u);  // availability and configs, on the next reading
    BOOST_TEST(later[0].topic == "energy/alice/plug_1/availability");
    BOOST_TEST(later[0].payload == "online");
    BOOST_TEST(later[1].topic == "homeassistant/sensor/energyhub/plug__1_power/config");
}

BOOST_AUTO_TEST_CASE(after_a_reconnect_each_device_is_announced_again_on_its_next_reading) {
    Recorder sink;
    DeviceTable devices{100};
    DeviceAnnouncer announcer(settings(), true, sink, devices);
    announcer.on_reading(reading_with("plug_1", true, true), kPlug);
    announcer.on_reading(reading_with("shellyplus2pm-c4d8d5500a10:1", true, false), kMeter);
    BOOST_TEST(sink.take().size() == 5u);

    sink.reconnected = 1;  // the broker may have come back from an older save
    announcer.on_reading(reading_with("plug_1", true, true), kPlug);
    auto plug = sink.take();
    BOOST_TEST_REQUIRE(plug.size() == 3u);
    BOOST_TEST(plug[0].topic == "energy/alice/plug_1/availability");
    BOOST_TEST(plug[0].payload == "online");
    BOOST_TEST(plug[2].topic == "homeassistant/sensor/energyhub/plug__1_energy/config");
    announcer.on_reading(reading_with("shellyplus2pm-c4d8d5500a10:1", true, false), kMeter);
    auto channel = sink.take();
    BOOST_TEST_REQUIRE(channel.size() == 2u);  // the device's availability, the channel's sensor
    BOOST_TEST(channel[1].topic == "homeassistant/sensor/energyhub/shellyplus2pm-c4d8d5500a10_c1_power/config");

    announcer.on_reading(reading_with("plug_1", true, true), kPlug);  // once per connection
    BOOST_TEST(sink.take().empty());
    announcer.on_presence(kPlug, true);
    BOOST_TEST(sink.take().empty());
    sink.reconnected = 2;
    announcer.on_presence(kPlug, false);
    BOOST_TEST(sink.take().size() == 1u);
}

BOOST_AUTO_TEST_CASE(without_discovery_only_availability_is_published) {
    Recorder sink;
    DeviceTable devices{100};
    DeviceAnnouncer announcer(settings(), false, sink, devices);
    announcer.on_reading(reading_with("plug_1", true, true), kPlug);
    auto msgs = sink.take();
    BOOST_TEST_REQUIRE(msgs.size() == 1u);
    BOOST_TEST(msgs[0].topic == "energy/alice/plug_1/availability");
}

BOOST_AUTO_TEST_CASE(a_meter_gets_import_and_export_sensors_for_the_energy_dashboard) {
    const DeviceRecord meter{"shellypro3em-c8f09e8841d8", "alice", "grid", "House"};
    Reading r;
    r.device_id = meter.device_id;
    r.power_w = -1200;
    r.energy_wh = 345628.03;
    r.energy_export_wh = 1247.42;
    BOOST_TEST(ha_sensors_of(r) ==
               (ha_bit(HaSensor::power) | ha_bit(HaSensor::energy) | ha_bit(HaSensor::energy_export)));
    auto j = nlohmann::json::parse(ha_discovery_payload(settings(), meter, meter.device_id, HaSensor::energy_export));
    BOOST_TEST(j["device_class"] == "energy");
    BOOST_TEST(j["state_class"] == "total_increasing");
    BOOST_TEST(j["unit_of_measurement"] == "kWh");
    BOOST_TEST(j["unique_id"] == "energyhub_shellypro3em-c8f09e8841d8_energy_export");
    BOOST_TEST(j["value_template"].get<std::string>().find("value_json.energy_export_wh / 1000") != std::string::npos);
    BOOST_TEST(ha_discovery_topic(settings(), meter.device_id + ":2", HaSensor::energy_export) ==
               "homeassistant/sensor/energyhub/shellypro3em-c8f09e8841d8_c2_energy_export/config");
    auto phase =
        nlohmann::json::parse(ha_discovery_payload(settings(), meter, meter.device_id + ":2", HaSensor::energy_export));
    BOOST_TEST(phase["name"] == "Channel 2 energy exported");

    Recorder sink;
    DeviceTable devices{100};
    DeviceAnnouncer announcer(settings(), true, sink, devices);
    announcer.on_reading(r, meter);
    std::set<std::string> topics;
    for (const auto& m : sink.take()) topics.insert(m.topic);
    BOOST_TEST(topics.count("homeassistant/sensor/energyhub/shellypro3em-c8f09e8841d8_energy/config") == 1u);
    BOOST_TEST(topics.count("homeassistant/sensor/energyhub/shellypro3em-c8f09e8841d8_energy_export/config") == 1u);
}

BOOST_AUTO_TEST_CASE(each_instance_has_its_own_status_topic) {
    MqttConfig mqtt;
    BOOST_TEST(daemon_status_topic(mqtt, "hub") == "energyhub/status/hub");
    mqtt.client_id = "energyhub-hub-b";
    BOOST_TEST(daemon_status_topic(mqtt, "hub") == "energyhub/status/hub/energyhub-hub-b");
    mqtt.client_id = "energyhub-notifier";
    BOOST_TEST(daemon_status_topic(mqtt, "notifier") == "energyhub/status/notifier");

    // Without a hub status, entities follow the device alone (hubs of a share group).
    auto s = settings();
    s.hub_status_topic.clear();
    auto j = nlohmann::json::parse(ha_discovery_payload(s, kPlug, "plug_1", HaSensor::power));
    BOOST_TEST_REQUIRE(j["availability"].size() == 1u);
    BOOST_TEST(j["availability"][0]["topic"] == "energy/alice/plug_1/availability");
}

BOOST_AUTO_TEST_SUITE_END()
