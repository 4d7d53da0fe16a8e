#include "config/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "config/device_topics.hpp"
#include "config/nats_fleet.hpp"
#include "config/section.hpp"
#include "domain/device_partition.hpp"
#include "domain/ids.hpp"
#include "domain/topic_pattern.hpp"
#include "util/listen_address.hpp"
#include "util/redact.hpp"

namespace energyhub {

namespace {

// A client id names the daemon's status topic (daemon_status_topic), so it must be one topic level.
void read_client_id(Section& s, const char* path, std::string& out) {
    s.string("client_id", out);
    if (!is_valid_id(out)) s.fail(s.child("client_id"), path, "must match [A-Za-z0-9_.-]{1,64}");
}

// A file named in the config must be readable now: the error names its key, not a later TLS failure.
// with_trust: also ca_file and verify (a connection), not only a certificate and its key.
void read_tls(Section& s, TlsConfig& c, bool with_trust = true) {
    for (auto [key, value] :
         {std::pair{"ca_file", &c.ca_file}, std::pair{"cert_file", &c.cert_file}, std::pair{"key_file", &c.key_file}}) {
        if (!with_trust && value == &c.ca_file) continue;
        s.string(key, *value);
        if (value->empty()) continue;
        std::ifstream in(*value);
        if (!in) s.fail(s.child(key), s.key_path(key), "cannot read '" + *value + "': " + std::strerror(errno));
    }
    if (with_trust) {
        s.boolean("verify", c.verify);
        s.reject_unknown();
    }
    if (c.cert_file.empty() != c.key_file.empty())
        s.fail(s.child(c.cert_file.empty() ? "key_file" : "cert_file"),
               s.key_path(c.cert_file.empty() ? "key_file" : "cert_file"), "cert_file and key_file go together");
}

void read_mqtt(Section s, MqttConfig& c) {
    std::string broker = "mosquitto";
    s.string("broker", broker);
    if (broker != "mosquitto" && broker != "nats")
        s.fail(s.child("broker"), "mqtt.broker", "must be mosquitto (any MQTT broker) or nats (fleet mode)");
    c.broker = broker == "nats" ? BrokerKind::nats : BrokerKind::mosquitto;
    s.string("uri", c.uri);
    read_client_id(s, "mqtt.client_id", c.client_id);
    s.string("username", c.username);
    s.string("password", c.password);
    s.integer("qos", c.qos, 0, 2);
    s.string("share_group", c.share_group);
    if (c.share_group.find_first_of("/+#") != std::string::npos)
        s.fail(s.child("share_group"), "mqtt.share_group", "must not contain '/', '+' or '#'");
    s.integer("receive_maximum", c.receive_maximum, 0, 65535);
    s.duration("keepalive", c.keepalive);
    s.duration("connect_timeout", c.connect_timeout);
    auto topics = s.section("topics");
    topics.string("reading", c.reading_topic);
    if (std::count(c.reading_topic.begin(), c.reading_topic.end(), '+') != 1 ||
        c.reading_topic.find('#') != std::string::npos)
        topics.fail(topics.child("reading"), "mqtt.topics.reading", "needs exactly one '+' (the device id) and no '#'");
    // The hub matches it with a TopicPattern, which also needs the '+' to be a whole level: refuse
    // "home/+x/power" here, not when the hub starts.
    try {
        TopicPattern check(c.reading_topic);
    } catch (const std::invalid_argument&) {
        topics.fail(topics.child("reading"), "mqtt.topics.reading", "'+' must be a whole topic level, as in energy/+/reading");
    }
    topics.string("state_prefix", c.state_prefix);
    topics.string("deadletter", c.deadletter_topic);
    topics.string("status_prefix", c.status_prefix);
    topics.string("alert_prefix", c.alert_prefix);
    read_device_topics(topics, c.reading_topic, c.device_topics);
    topics.string("discovery_prefix", c.discovery_prefix);
    topics.reject_unknown();
    s.number("deadletter_rate", c.deadletter_rate, 0);
    read_time_zone(s, "tasmota_timezone", c.tasmota_timezone);
    auto tls = s.section("tls");
    read_tls(tls, c.tls);
    s.reject_unknown();
    const auto uris = broker_uris(c.uri);
    for (const auto& uri : uris) {
        if (uri.rfind("tcp://", 0) != 0 && uri.rfind("ssl://", 0) != 0 && uri.rfind("mqtt://", 0) != 0 &&
            uri.rfind("mqtts://", 0) != 0)
            s.fail(s.child("uri"), "mqtt.uri",
                   uris.size() == 1 ? "must start with tcp://, ssl://, mqtt:// or mqtts://"
                                    : "each broker must start with tcp://, ssl://, mqtt:// or mqtts://");
        if (is_tls_uri(uri) != is_tls_uri(uris.front()))
            s.fail(s.child("uri"), "mqtt.uri", "must not mix brokers with and without TLS");
        // Paho refuses a user name in the URI; and a password there would end up in logs.
        if (has_userinfo(uri))
            s.fail(s.child("uri"), "mqtt.uri",
                   "must not carry a user name or password: set mqtt.username and mqtt.password");
    }
    if (tls.node().IsDefined() && !tls.node().IsNull() && !is_tls_uri(c.uri))
        s.fail(tls.node(), "mqtt.tls", "needs an ssl:// or mqtts:// mqtt.uri");
}

void read_postgres(Section s, PostgresConfig& c) {
    s.string("dsn", c.dsn);
    s.duration("retry_max", c.retry_max);
    s.reject_unknown();
}

void read_redis(Section s, RedisConfig& c) {
    s.string("uri", c.uri);
    s.duration("timeout", c.timeout);
    s.duration("ttl", c.ttl);
    s.duration("retry_interval", c.retry_interval);
    s.reject_unknown();
    if (!c.uri.empty() && c.uri.rfind("redis://", 0) != 0 && c.uri.rfind("unix://", 0) != 0)
        s.fail(s.child("uri"), "redis.uri", "must start with redis:// or unix://");
}

void read_hub(Section s, HubConfig& c) {
    s.string("state_dir", c.state_dir);
    s.byte_size("spool_max", c.spool_max_bytes, 1 << 20);
    s.byte_size("spool_segment", c.spool_segment_bytes, 64 << 10);
    s.integer("batch_size", c.batch_size, 1, 1'000'000);
    s.duration("flush_interval", c.flush_interval);
    s.duration("state_interval", c.state_interval, true);
    s.integer("cache_size", c.cache_size, 1, 100'000'000);
    s.duration("unknown_device_ttl", c.unknown_device_ttl, true);
    s.duration("backfill_window", c.backfill_window);
    s.integer("max_payload_bytes", c.max_payload_bytes, 64, 1 << 20);
    s.integer("retention_days", c.retention_days, 1, 100'000);
    s.integer("partitions_ahead", c.partitions_ahead, 1, 365);
    s.duration("rollup_interval", c.rollup_interval);
    if (c.rollup_interval < std::chrono::seconds(1) || c.rollup_interval > std::chrono::hours(1))
        s.fail(s.child("rollup_interval"), "hub.rollup_interval", "must be between 1s and 1h");
    s.string("partition", c.partition);
    if (!c.partition.empty() && !DevicePartition::parse(c.partition))
        s.fail(s.child("partition"), "hub.partition", "must be i/n with 0 <= i < n <= 1024, as in 0/2");
    s.reject_unknown();
    if (c.spool_segment_bytes > c.spool_max_bytes)
        s.fail(s.child("spool_segment"), "hub.spool_segment", "must not exceed hub.spool_max");
}

void read_clock_time(Section& s, const std::string& key, std::string& out) {
    s.string(key, out);
    unsigned h = 0, m = 0;
    char extra = 0;
    if (!out.empty() && (std::sscanf(out.c_str(), "%2u:%2u%c", &h, &m, &extra) != 2 || h > 23 || m > 59 || out.size() != 5))
        s.fail(s.child(key), s.key_path(key), "must be a time of day such as 22:00");
}

void read_smtp(Section s, SmtpConfig& c) {
    s.string("url", c.url);
    s.string("from", c.from);
    s.string("username", c.username);
    s.string("password", c.password);
    s.string("starttls", c.starttls);
    s.string("ca_file", c.ca_file);
    s.duration("timeout", c.timeout);
    s.reject_unknown();
    if (c.url.rfind("smtp://", 0) != 0 && c.url.rfind("smtps://", 0) != 0)
        s.fail(s.child("url"), "smtp.url", "must start with smtp:// or smtps://");
    if (c.starttls != "optional" && c.starttls != "required" && c.starttls != "off")
        s.fail(s.child("starttls"), "smtp.starttls", "must be optional, required or off");
    if (c.from.find('@') == std::string::npos) s.fail(s.child("from"), "smtp.from", "must be an email address");
}

void read_notifier(Section s, NotifierConfig& c) {
    read_client_id(s, "notifier.client_id", c.client_id);
    s.duration("poll_interval", c.poll_interval);
    s.integer("max_attempts", c.max_attempts, 1, 1000);
    s.duration("retry_initial", c.retry_initial);
    s.duration("retry_max", c.retry_max);
    s.integer("emails_per_hour", c.emails_per_hour, 1, 10'000);
    s.integer("digest_after", c.digest_after, 2, 10'000);
    auto quiet = s.section("quiet_hours");
    read_clock_time(quiet, "from", c.quiet_from);
    read_clock_time(quiet, "to", c.quiet_to);
    quiet.reject_unknown();
    if (c.quiet_from.empty() != c.quiet_to.empty())
        quiet.fail(quiet.node(), "notifier.quiet_hours", "needs both from and to");
    s.reject_unknown();
}

}  // namespace

Config parse_config(const std::string& yaml_text, const std::string& source_name) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml_text);
    } catch (const YAML::Exception& e) {
        throw ConfigError(source_name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    Config c;
    c.source = source_name;
    Section top(root, "", c.source);
    read_mqtt(top.section("mqtt"), c.mqtt);
    read_postgres(top.section("postgres"), c.postgres);
    read_redis(top.section("redis"), c.redis);
    auto http = top.section("http");
    auto http_tls = http.section("tls");
    read_tls(http_tls, c.http.tls);
    if (c.http.tls.cert_file.empty() && !c.http.tls.ca_file.empty())
        http_tls.fail(http_tls.child("ca_file"), "http.tls.ca_file",
                      "a listener needs cert_file and key_file, not ca_file");
    for (auto [key, value] : {std::pair{"listen", &c.http.listen}, std::pair{"notifier_listen", &c.http.notifier_listen},
                              std::pair{"insights_listen", &c.http.insights_listen}}) {
        http.string(key, *value);
        if (value->empty()) continue;
        std::string host;
        try {
            host = parse_listen_address(*value).first;
        } catch (const std::invalid_argument&) {
            http.fail(http.child(key), http.key_path(key), "must be host:port, e.g. 127.0.0.1:8080");
        }
        if (host != "127.0.0.1" && host != "::1" && host != "localhost") {
            std::string token;
            http.string("token", token);
            if (token.empty()) http.fail(http.child(key), http.key_path(key), "a non-loopback address needs http.token");
            // The token must not cross a network in clear: HTTPS, or a TLS proxy in front on loopback.
            if (c.http.tls.cert_file.empty())
                http.fail(http.child(key), http.key_path(key),
                          "a non-loopback address needs http.tls (cert_file, key_file), or listen on loopback behind a "
                          "TLS proxy");
        }
    }
    http.string("token", c.http.token);
    http.reject_unknown();
    auto hub = top.section("hub");
    read_hub(hub, c.hub);
    // A share group splits per message: partitions would then see only part of their devices.
    if (!c.hub.partition.empty() && !c.mqtt.share_group.empty())
        hub.fail(hub.child("partition"), "hub.partition", "cannot be combined with mqtt.share_group");
    if (c.mqtt.broker == BrokerKind::nats) check_nats_fleet(top, c);
    auto log = top.section("log");
    log.string("level", c.log.level);
    log.string("format", c.log.format);
    if (c.log.format != "text" && c.log.format != "json") log.fail(log.child("format"), "log.format", "must be text or json");
    log.reject_unknown();
    static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    if (!levels.count(c.log.level)) log.fail(log.child("level"), "log.level", "must be one of trace, debug, info, warn, error, critical, off");
    read_thresholds(top.section("thresholds"), c.thresholds);
    read_smtp(top.section("smtp"), c.smtp);
    read_notifier(top.section("notifier"), c.notifier);
    read_ollama_config(top.section("ollama"), c.ollama);
    read_insights_config(top.section("insights"), c.insights);
    auto device_ca = top.section("device_ca");
    TlsConfig ca_files;
    ca_files.cert_file = c.device_ca.cert_file;
    read_tls(device_ca, ca_files, /*with_trust=*/false);
    c.device_ca.cert_file = ca_files.cert_file;
    c.device_ca.key_file = ca_files.key_file;
    device_ca.integer("days", c.device_ca.days, 1, 3650);
    device_ca.reject_unknown();
    top.reject_unknown();
    return c;
}

Config load_config(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw ConfigError(path + ": cannot read config file");
    std::stringstream text;
    text << in.rdbuf();
    return parse_config(text.str(), path);
}

bool is_tls_uri(const std::string& uri) { return uri.rfind("ssl://", 0) == 0 || uri.rfind("mqtts://", 0) == 0; }

std::vector<std::string> broker_uris(const std::string& uri) {
    std::vector<std::string> uris;
    std::size_t start = 0;
    for (;;) {
        auto end = uri.find(',', start);
        auto one = uri.substr(start, end == std::string::npos ? std::string::npos : end - start);
        one.erase(0, one.find_first_not_of(' '));
        one.erase(one.find_last_not_of(' ') + 1);
        uris.push_back(std::move(one));
        if (end == std::string::npos) return uris;
        start = end + 1;
    }
}

std::string daemon_status_topic(const MqttConfig& mqtt, std::string_view daemon) {
    std::string topic = mqtt.status_prefix + "/" + std::string(daemon);
    if (mqtt.client_id != "energyhub-" + std::string(daemon)) topic += "/" + mqtt.client_id;
    return topic;
}

std::string default_config_path() {
    if (const char* env = std::getenv("ENERGYHUB_CONFIG"); env && *env) return env;
    return "/etc/energyhub/energyhub.yaml";
}

}  // namespace energyhub
