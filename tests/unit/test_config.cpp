#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <string>

#include "config/config.hpp"
#include "config/nats_fleet.hpp"

using namespace energyhub;

namespace {

// The one-line message of a refused config.
std::string error_of(const std::string& yaml) {
    try {
        parse_config(yaml, "test.yaml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(defaults_and_values) {
    auto c = parse_config(
        "mqtt:\n"
        "  uri: tcp://127.0.0.1:18830\n"
        "  qos: 1\n"
        "  topics: {reading: 'home/+/power'}\n"
        "hub:\n"
        "  batch_size: 100\n"
        "  flush_interval: 50ms\n"
        "  state_interval: 0s\n"
        "  spool_max: 64MB\n",
        "test.yaml");
    BOOST_TEST(c.mqtt.uri == "tcp://127.0.0.1:18830");
    BOOST_TEST(c.mqtt.qos == 1);
    BOOST_TEST(c.mqtt.reading_topic == "home/+/power");
    BOOST_TEST(c.hub.batch_size == 100u);
    BOOST_TEST(c.hub.flush_interval.count() == 50);
    BOOST_TEST(c.hub.state_interval.count() == 0);  // a state with every batch
    BOOST_TEST(parse_config("", "t").hub.state_interval.count() == 1000);
    BOOST_TEST(c.hub.spool_max_bytes == 64u << 20);
    BOOST_TEST(c.postgres.dsn == "postgresql:///energyhub");  // default kept
    BOOST_TEST(c.redis.uri.empty());
}

BOOST_AUTO_TEST_CASE(environment_is_expanded) {
    ::setenv("ENERGYHUB_TEST_DSN", "postgresql://x@127.0.0.1:1/db", 1);
    auto c = parse_config("postgres: {dsn: '${ENERGYHUB_TEST_DSN}'}\nredis: {uri: '${ENERGYHUB_TEST_UNSET:-redis://127.0.0.1:6379}'}\n", "t");
    BOOST_TEST(c.postgres.dsn == "postgresql://x@127.0.0.1:1/db");
    BOOST_TEST(c.redis.uri == "redis://127.0.0.1:6379");
    BOOST_TEST(error_of("postgres: {dsn: '${ENERGYHUB_TEST_UNSET}'}\n") ==
               "test.yaml:1: postgres.dsn: environment variable ENERGYHUB_TEST_UNSET is not set");
}

// The nodes of a cluster: Paho tries them in order at every connect and reconnect.
BOOST_AUTO_TEST_CASE(several_brokers) {
    auto c = parse_config("mqtt: {uri: 'tcp://127.0.0.1:4221, mqtt://127.0.0.1:4222,tcp://127.0.0.1:4223'}\n", "t");
    const std::vector<std::string> expected{"tcp://127.0.0.1:4221", "mqtt://127.0.0.1:4222", "tcp://127.0.0.1:4223"};
    BOOST_TEST(broker_uris(c.mqtt.uri) == expected, boost::test_tools::per_element());
    BOOST_TEST(broker_uris("ssl://b:8883") == std::vector<std::string>{"ssl://b:8883"},
               boost::test_tools::per_element());
}

// Sizes and durations too: the Raspberry Pi profile sets the spool size and flush interval so.
// Fleet mode: every reading filter gets one NATS mapping keyed on its device level, the hub of a
// partition subscribes under hub/<i>/, and what NATS cannot map unambiguously is refused.
BOOST_AUTO_TEST_CASE(nats_fleet_mappings_and_partition_filters) {
    const std::string fleet =
        "mqtt:\n"
        "  broker: nats\n"
        "  topics:\n"
        "    alert_prefix: energyhub/alerts\n"
        "    devices:\n"
        "      - {format: tasmota, filter: tele/+/SENSOR}\n"
        "      - {format: shelly, filter: shelly/+/status/+}\n"
        "hub: {partition: 1/3}\n";
    const auto c = parse_config(fleet, "fleet.yaml");
    const auto mappings = nats_mappings(c);
    BOOST_TEST(mappings.find("\"energy.*.reading\": \"hub.{{partition(3,1)}}.energy.{{wildcard(1)}}.reading\"") !=
                   std::string::npos,
               mappings);
    BOOST_TEST(
        mappings.find("\"tele.*.SENSOR\": \"hub.{{partition(3,1)}}.tele.{{wildcard(1)}}.SENSOR\"") != std::string::npos,
        mappings);
    BOOST_TEST(mappings.find("\"shelly.*.status.*\": \"hub.{{partition(3,1)}}.shelly.{{wildcard(1)}}.status."
                             "{{wildcard(2)}}\"") != std::string::npos,
               mappings);
    const auto hub = with_broker_partition(c);
    BOOST_TEST(hub.mqtt.reading_topic == "hub/1/energy/+/reading");
    BOOST_TEST(hub.mqtt.device_topics.at(1).filter == "hub/1/shelly/+/status/+");
    BOOST_TEST(hub.hub.partition.empty());  // nothing left for the hub to filter
    // On Mosquitto, hub.partition stays the hub's own filter and no mapping exists.
    const auto single = parse_config("hub: {partition: 1/3}\n", "single.yaml");
    BOOST_TEST(with_broker_partition(single).mqtt.reading_topic == "energy/+/reading");
    BOOST_CHECK_THROW(nats_mappings(single), ConfigError);

    const auto refused = [&](const std::string& yaml, const std::string& key, const std::string& words) {
        const auto e = error_of(yaml);
        BOOST_TEST((e.find(key) != std::string::npos && e.find(words) != std::string::npos), yaml << " -> " << e);
    };
    refused("mqtt: {broker: rabbit}\n", "mqtt.broker", "mosquitto");
    refused("mqtt: {broker: nats, qos: 2}\nhub: {partition: 0/2}\n", "mqtt.qos", "no QoS 2");
    refused("mqtt: {broker: nats, share_group: g}\n", "mqtt.share_group", "use hub.partition");
    refused("mqtt: {broker: nats}\n", "hub.partition", "required");
    refused("mqtt: {broker: nats, topics: {reading: 'a.b/+/x'}}\nhub: {partition: 0/2}\n", "mqtt.topics.reading",
            "'.'");
    refused("mqtt: {broker: nats, topics: {devices: [{format: tasmota, filter: 'tele/+/#'}]}}\nhub: {partition: 0/2}\n",
            "mqtt.topics.devices[0]", "no '#'");
    refused(
        "mqtt: {broker: nats, topics: {devices: [{format: tasmota, filter: '+/x/reading'}]}}\nhub: {partition: 0/2}\n",
        "mqtt.topics.devices[0]", "overlaps 'energy/+/reading'");
    // A filter that would take the daemons' own status topics, energyhub/status/<daemon>.
    refused(
        "mqtt: {broker: nats, topics: {devices: [{format: tasmota, filter: 'energyhub/+/+'}]}}\nhub: {partition: "
        "0/2}\n",
        "mqtt.topics.devices[0]", "energyhub/status/+");
}

// NATS's partition(n,1) as nats-server 2.9.10 computed it for these ids, and the permissions the
// users of a fleet get from it.
BOOST_AUTO_TEST_CASE(nats_users_and_partitions) {
    BOOST_TEST(nats_partition("dev1", 7) == 2u);
    BOOST_TEST(nats_partition("alpha", 7) == 5u);
    BOOST_TEST(nats_partition("fleet-00042", 7) == 6u);
    BOOST_TEST(nats_partition("abcdefghijklmnopqrstuvwxyz", 7) == 2u);
    const auto c = parse_config(
        "mqtt: {broker: nats, topics: {devices: [{format: shelly, filter: shelly/+/status/+}]}}\nhub: {partition: "
        "0/7}\n",
        "f.yaml");
    const auto auth = nats_authorization(
        c, {{NatsUser::Role::device, "alpha", "$2b$06$x", {}}, {NatsUser::Role::dashboard, "dash", "$2b$06$y", "u1"}});
    const auto has = [&](const std::string& text) {
        BOOST_TEST(auth.find(text) != std::string::npos, text << " in\n" << auth);
    };
    has(R"(publish: ["hub.5.energy.alpha.reading", "hub.5.shelly.alpha.status.*"])");
    has(R"("cmnd.alpha", "cmnd.alpha.>")");
    has(R"("shelly.alpha.rpc")");
    has(R"(publish: { deny: [">"] })");
    has(R"("energy.u1", "energy.u1.>")");
    has(R"(deny: ["energy.u1.reading"])");
}

BOOST_AUTO_TEST_CASE(environment_is_expanded_in_sizes_and_durations) {
    ::setenv("ENERGYHUB_TEST_FLUSH", "2s", 1);
    auto c = parse_config(
        "hub: {flush_interval: '${ENERGYHUB_TEST_FLUSH}', spool_max: '${ENERGYHUB_TEST_UNSET:-64MB}'}\n", "t");
    BOOST_TEST(c.hub.flush_interval.count() == 2000);
    BOOST_TEST(c.hub.spool_max_bytes == 64ull << 20);
    ::setenv("ENERGYHUB_TEST_FLUSH", "soon", 1);
    BOOST_TEST(error_of("hub: {flush_interval: '${ENERGYHUB_TEST_FLUSH}'}\n") ==
               "test.yaml:1: hub.flush_interval: must be a duration such as 500ms, 30s, 10m, 2h or 1d");
}

struct BadConfig {
    const char* yaml;
    const char* error;
};

BOOST_AUTO_TEST_CASE(errors_name_file_line_and_key) {
    const BadConfig cases[] = {
        {"mqtt:\n  uri: tcp://x:1\n  qso: 1\n", "test.yaml:3: mqtt.qso: unknown key"},
        {"mqtt:\n  qos: 3\n", "test.yaml:2: mqtt.qos: must be between 0 and 2"},
        {"mqtt:\n  qos: high\n", "test.yaml:2: mqtt.qos: must be an integer"},
        {"mqtt:\n  uri: http://x\n", "test.yaml:2: mqtt.uri: must start with tcp://, ssl://, mqtt:// or mqtts://"},
        {"mqtt:\n  uri: tcp://a:1883, b:1883\n",
         "test.yaml:2: mqtt.uri: each broker must start with tcp://, ssl://, mqtt:// or mqtts://"},
        {"mqtt:\n  uri: ssl://a:8883,tcp://b:1883\n",
         "test.yaml:2: mqtt.uri: must not mix brokers with and without TLS"},
        {"mqtt:\n  uri: tcp://a:1883,tcp://u:p@b:1883\n",
         "test.yaml:2: mqtt.uri: must not carry a user name or password: set mqtt.username and mqtt.password"},
        {"hub:\n  flush_interval: 5 seconds\n",
         "test.yaml:2: hub.flush_interval: must be a duration such as 500ms, 30s, 10m, 2h or 1d"},
        {"hub:\n  batch_size: 0\n", "test.yaml:2: hub.batch_size: must be between 1 and 1000000"},
        {"hub:\n  batch_size: -5\n", "test.yaml:2: hub.batch_size: must be between 1 and 1000000"},
        {"hub:\n  rollup_interval: 500ms\n", "test.yaml:2: hub.rollup_interval: must be between 1s and 1h"},
        {"hub:\n  rollup_interval: 2h\n", "test.yaml:2: hub.rollup_interval: must be between 1s and 1h"},
        {"hub:\n  spool_max: lots\n", "test.yaml:2: hub.spool_max: must be a size such as 64KB, 256MB or 1GB"},
        {"redis:\n  uri: localhost:6379\n", "test.yaml:2: redis.uri: must start with redis:// or unix://"},
        {"log:\n  level: loud\n",
         "test.yaml:2: log.level: must be one of trace, debug, info, warn, error, critical, off"},
        {"colour: blue\n", "test.yaml:1: colour: unknown key"},
        {"http:\n  listen: 0.0.0.0:8080\n", "test.yaml:2: http.listen: a non-loopback address needs http.token"},
        {"http:\n  listen: nowhere\n", "test.yaml:2: http.listen: must be host:port, e.g. 127.0.0.1:8080"},
        {"http:\n  listen: 0.0.0.0:8080\n  token: t\n",
         "test.yaml:2: http.listen: a non-loopback address needs http.tls (cert_file, key_file), or listen on loopback "
         "behind a TLS proxy"},
        {"mqtt:\n  tls: {verify: true}\n", "test.yaml:2: mqtt.tls: needs an ssl:// or mqtts:// mqtt.uri"},
        {"mqtt:\n  uri: ssl://b:8883\n  tls: {ca_file: /nonexistent/ca.crt}\n",
         "test.yaml:3: mqtt.tls.ca_file: cannot read '/nonexistent/ca.crt': No such file or directory"},
        {"mqtt:\n  uri: ssl://b:8883\n  tls: {cert_file: /etc/hostname}\n",
         "test.yaml:3: mqtt.tls.cert_file: cert_file and key_file go together"},
        {"mqtt:\n  uri: ssl://b:8883\n  tls: {verfy: false}\n", "test.yaml:3: mqtt.tls.verfy: unknown key"},
        {"device_ca:\n  days: 0\n", "test.yaml:2: device_ca.days: must be between 1 and 3650"},
        {"log:\n  format: xml\n", "test.yaml:2: log.format: must be text or json"},
        {"hub:\n  spool_max: 4MB\n  spool_segment: 8MB\n",
         "test.yaml:3: hub.spool_segment: must not exceed hub.spool_max"},
        {"redis:\n  timeout: 0s\n", "test.yaml:2: redis.timeout: must be greater than zero"},
        {"postgres:\n  dsn: [a, b]\n", "test.yaml:2: postgres.dsn: must be a string"},
        {"hub:\n  batch_size: 10\nlog: {level: info}\nhub:\n  batch_size: 20\n", "test.yaml:4: hub: appears twice"},
        {"hub:\n  batch_size: 10\n  batch_size: 20\n", "test.yaml:3: hub.batch_size: appears twice"},
        {"mqtt: [1, 2]\n", "test.yaml:1: mqtt: must be a mapping"},
        {"mqtt:\n  topics:\n    reading: energy/#\n",
         "test.yaml:3: mqtt.topics.reading: needs exactly one '+' (the device id) and no '#'"},
        {"mqtt:\n  topics:\n    reading: home/+x/power\n",
         "test.yaml:3: mqtt.topics.reading: '+' must be a whole topic level, as in energy/+/reading"},
        {"mqtt: {uri: [unclosed\n", "test.yaml:2: end of sequence flow not found"},
        // A list or mapping as a key is a config error, not yaml-cpp's "bad conversion".
        {"mqtt:\n  [a, b]: 1\n", "test.yaml:2: mqtt: a key must be a name, not a list or mapping"},
        {"{a: 1}: 2\n", "test.yaml:1: top level: a key must be a name, not a list or mapping"},
        {"hub:\n  partition: 2/2\n", "test.yaml:2: hub.partition: must be i/n with 0 <= i < n <= 1024, as in 0/2"},
        {"hub:\n  partition: half\n", "test.yaml:2: hub.partition: must be i/n with 0 <= i < n <= 1024, as in 0/2"},
        {"mqtt: {share_group: hubs}\nhub:\n  partition: 0/2\n",
         "test.yaml:3: hub.partition: cannot be combined with mqtt.share_group"},
        {"mqtt:\n  uri: tcp://hub:s3cret@127.0.0.1:1883\n",
         "test.yaml:2: mqtt.uri: must not carry a user name or password: set mqtt.username and mqtt.password"},
        // A client id names the daemon's status topic: one topic level.
        {"mqtt:\n  client_id: hub/b\n", "test.yaml:2: mqtt.client_id: must match [A-Za-z0-9_.-]{1,64}"},
        {"notifier:\n  client_id: '#'\n", "test.yaml:2: notifier.client_id: must match [A-Za-z0-9_.-]{1,64}"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.yaml) { BOOST_TEST(error_of(c.yaml) == c.error); }
    }
}

BOOST_AUTO_TEST_CASE(missing_file_is_a_clear_error) {
    BOOST_CHECK_EXCEPTION(load_config("/nonexistent/energyhub.yaml"), ConfigError, [](const ConfigError& e) {
        return std::string(e.what()) == "/nonexistent/energyhub.yaml: cannot read config file";
    });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(thresholds_config)

BOOST_AUTO_TEST_CASE(most_specific_layer_wins_per_rule) {
    auto c = parse_config(
        "thresholds:\n"
        "  defaults:\n"
        "    power_above: {watts: 3000, for: 60s, clear_below: 2700}\n"
        "    daily_energy_above: {kwh: 20}\n"
        "    device_offline: {after: 10m}\n"
        "    spike: {factor: 4, baseline: 15m}\n"
        "  types:   {heatpump: {power_above: {watts: 6000, for: 5m}}}\n"
        "  users:   {alice: {daily_energy_above: {kwh: 12}}}\n"
        "  devices: {kettle-1: {power_above: {watts: 2500, for: 3m}}, quiet-1: {device_offline: {enabled: false}}}\n",
        "t.yaml");
    auto hp = c.thresholds.resolve("hp-1", "bob", "heatpump");
    BOOST_TEST(hp.power_above->watts == 6000);
    BOOST_TEST(hp.power_above->hold.count() == 300'000);
    BOOST_TEST(hp.power_above->clear_below == 5400);  // not the default layer's 2700
    BOOST_TEST(hp.daily_energy_above->kwh == 20);
    auto kettle = c.thresholds.resolve("kettle-1", "alice", "plug");
    BOOST_TEST(kettle.power_above->watts == 2500);
    BOOST_TEST(kettle.daily_energy_above->kwh == 12);
    BOOST_TEST(kettle.spike->factor == 4);
    BOOST_TEST(!c.thresholds.resolve("quiet-1", "x", "plug").device_offline.has_value());
}

BOOST_AUTO_TEST_CASE(bad_rules_name_key_and_line) {
    const config::BadConfig cases[] = {
        {"thresholds:\n  defaults:\n    power_abov: {watts: 1}\n", "test.yaml:3: thresholds.defaults.power_abov: unknown key"},
        {"thresholds:\n  defaults:\n    power_above: {watts: -5}\n", "test.yaml:3: thresholds.defaults.power_above.watts: must be greater than 0"},
        {"thresholds:\n  defaults:\n    power_above: {for: 1m}\n", "test.yaml:3: thresholds.defaults.power_above.watts: is required"},
        {"thresholds:\n  defaults:\n    power_above: {watts: 100, clear_below: 200}\n", "test.yaml:3: thresholds.defaults.power_above.clear_below: must be below watts"},
        {"thresholds:\n  defaults:\n    power_above: {watts: 100, for: soon}\n", "test.yaml:3: thresholds.defaults.power_above.for: must be a duration such as 500ms, 30s, 10m, 2h or 1d"},
        {"thresholds:\n  users:\n    alice:\n      daily_energy_above: {kwh: 0}\n", "test.yaml:4: thresholds.users.alice.daily_energy_above.kwh: must be greater than 0"},
        {"thresholds:\n  devices:\n    k:\n      spike: {factor: 0.5}\n", "test.yaml:4: thresholds.devices.k.spike.factor: must be greater than 1"},
        {"thresholds:\n  types:\n    plug:\n      device_offline: {after: 10m, grace: 1m}\n", "test.yaml:4: thresholds.types.plug.device_offline.grace: unknown key"},
        {"thresholds:\n  default:\n    power_above: {watts: 1}\n", "test.yaml:2: thresholds.default: unknown key"},
        {"thresholds:\n  types:\n    [plug]: {}\n", "test.yaml:3: thresholds.types: a key must be a name, not a list or mapping"},
        {"smtp:\n  url: http://mail\n", "test.yaml:2: smtp.url: must start with smtp:// or smtps://"},
        {"notifier:\n  quiet_hours: {from: '25:00', to: '07:00'}\n", "test.yaml:2: notifier.quiet_hours.from: must be a time of day such as 22:00"},
        {"thresholds:\n  defaults:\n    daily_energy_above: {kwh: .inf}\n", "test.yaml:3: thresholds.defaults.daily_energy_above.kwh: must be a finite number"},
        {"mqtt:\n  deadletter_rate: .nan\n", "test.yaml:2: mqtt.deadletter_rate: must be a finite number"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.yaml) { BOOST_TEST(error_of(c.yaml) == c.error); }
    }
}

BOOST_AUTO_TEST_SUITE_END()
