#include "config/config.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "util/duration.hpp"

namespace energyhub {

namespace {

// Walks one mapping, remembering which keys were read, so the leftovers can be named as errors.
class Section {
public:
    Section(const YAML::Node& node, std::string path, const std::string& source)
        : node_(node), path_(std::move(path)), source_(source) {
        if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap()) fail(node_, path_, "must be a mapping");
    }

    [[noreturn]] void fail(const YAML::Node& at, const std::string& key, const std::string& problem) const {
        std::ostringstream msg;
        msg << source_;
        if (at.Mark().line >= 0) msg << ':' << at.Mark().line + 1;
        msg << ": " << key << ": " << problem;
        throw ConfigError(msg.str());
    }

    std::string key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

    // Returns the child node if present (and marks it known).
    YAML::Node child(const std::string& key) {
        known_.insert(key);
        if (!node_.IsDefined() || !node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
        const YAML::Node& map = node_;  // const lookup never inserts
        return map[key];
    }

    Section section(const std::string& key) { return Section(child(key), key_path(key), source_); }

    void string(const std::string& key, std::string& out) {
        auto n = child(key);
        if (!n.IsDefined()) return;
        if (!n.IsScalar()) fail(n, key_path(key), "must be a string");
        out = expand_env(n, key, n.Scalar());
    }

    template <typename Int>
    void integer(const std::string& key, Int& out, long long min, long long max) {
        auto n = child(key);
        if (!n.IsDefined()) return;
        long long v = 0;
        try {
            if (!n.IsScalar()) throw YAML::Exception(n.Mark(), "");
            v = n.as<long long>();
        } catch (const YAML::Exception&) {
            fail(n, key_path(key), "must be an integer");
        }
        if (v < min || v > max)
            fail(n, key_path(key), "must be between " + std::to_string(min) + " and " + std::to_string(max));
        out = static_cast<Int>(v);
    }

    void number(const std::string& key, double& out, double min) {
        auto n = child(key);
        if (!n.IsDefined()) return;
        double v = 0;
        try {
            if (!n.IsScalar()) throw YAML::Exception(n.Mark(), "");
            v = n.as<double>();
        } catch (const YAML::Exception&) {
            fail(n, key_path(key), "must be a number");
        }
        if (!(v >= min)) fail(n, key_path(key), "must be at least " + std::to_string(min));
        out = v;
    }

    void duration(const std::string& key, std::chrono::milliseconds& out, bool allow_zero = false) {
        auto n = child(key);
        if (!n.IsDefined()) return;
        auto d = n.IsScalar() ? parse_duration(n.Scalar()) : std::nullopt;
        if (!d) fail(n, key_path(key), "must be a duration such as 500ms, 30s, 10m, 2h or 1d");
        if (!allow_zero && d->count() == 0) fail(n, key_path(key), "must be greater than zero");
        out = *d;
    }

    void byte_size(const std::string& key, std::uint64_t& out, std::uint64_t min) {
        auto n = child(key);
        if (!n.IsDefined()) return;
        auto b = n.IsScalar() ? parse_byte_size(n.Scalar()) : std::nullopt;
        if (!b) fail(n, key_path(key), "must be a size such as 64KB, 256MB or 1GB");
        if (*b < min) fail(n, key_path(key), "must be at least " + std::to_string(min) + " bytes");
        out = *b;
    }

    // Any key not read is a mistake: say which and where.
    void reject_unknown() const {
        if (!node_.IsDefined() || !node_.IsMap()) return;
        for (const auto& kv : node_) {
            auto key = kv.first.as<std::string>();
            if (!known_.count(key)) fail(kv.first, key_path(key), "unknown key");
        }
    }

private:
    std::string expand_env(const YAML::Node& at, const std::string& key, const std::string& in) const {
        std::string out;
        std::size_t i = 0;
        while (i < in.size()) {
            auto start = in.find("${", i);
            if (start == std::string::npos) {
                out.append(in, i, std::string::npos);
                break;
            }
            out.append(in, i, start - i);
            auto end = in.find('}', start);
            if (end == std::string::npos) fail(at, key_path(key), "unterminated ${ in value");
            std::string expr = in.substr(start + 2, end - start - 2);
            std::string fallback;
            bool has_fallback = false;
            if (auto sep = expr.find(":-"); sep != std::string::npos) {
                fallback = expr.substr(sep + 2);
                expr.resize(sep);
                has_fallback = true;
            }
            const char* value = std::getenv(expr.c_str());
            if (value && *value) out += value;
            else if (has_fallback) out += fallback;
            else fail(at, key_path(key), "environment variable " + expr + " is not set");
            i = end + 1;
        }
        return out;
    }

    YAML::Node node_;
    std::string path_;
    const std::string& source_;
    std::set<std::string> known_;
};

void read_mqtt(Section s, MqttConfig& c) {
    s.string("uri", c.uri);
    s.string("client_id", c.client_id);
    s.string("username", c.username);
    s.string("password", c.password);
    s.integer("qos", c.qos, 0, 2);
    s.duration("keepalive", c.keepalive);
    s.duration("connect_timeout", c.connect_timeout);
    auto topics = s.section("topics");
    topics.string("reading", c.reading_topic);
    if (std::count(c.reading_topic.begin(), c.reading_topic.end(), '+') != 1 ||
        c.reading_topic.find('#') != std::string::npos)
        topics.fail(topics.child("reading"), "mqtt.topics.reading", "needs exactly one '+' (the device id) and no '#'");
    topics.string("state_prefix", c.state_prefix);
    topics.string("deadletter", c.deadletter_topic);
    topics.string("status_prefix", c.status_prefix);
    topics.reject_unknown();
    s.number("deadletter_rate", c.deadletter_rate, 0);
    s.reject_unknown();
    if (c.uri.rfind("tcp://", 0) != 0 && c.uri.rfind("ssl://", 0) != 0 && c.uri.rfind("mqtt://", 0) != 0 &&
        c.uri.rfind("mqtts://", 0) != 0)
        s.fail(s.child("uri"), "mqtt.uri", "must start with tcp://, ssl://, mqtt:// or mqtts://");
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
    s.integer("cache_size", c.cache_size, 1, 100'000'000);
    s.duration("unknown_device_ttl", c.unknown_device_ttl, true);
    s.duration("backfill_window", c.backfill_window);
    s.integer("max_payload_bytes", c.max_payload_bytes, 64, 1 << 20);
    s.integer("retention_days", c.retention_days, 1, 100'000);
    s.integer("partitions_ahead", c.partitions_ahead, 1, 365);
    s.reject_unknown();
    if (c.spool_segment_bytes > c.spool_max_bytes)
        s.fail(s.child("spool_segment"), "hub.spool_segment", "must not exceed hub.spool_max");
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
    http.string("listen", c.http.listen);
    http.reject_unknown();
    read_hub(top.section("hub"), c.hub);
    auto log = top.section("log");
    log.string("level", c.log.level);
    log.reject_unknown();
    static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    if (!levels.count(c.log.level)) log.fail(log.child("level"), "log.level", "must be one of trace, debug, info, warn, error, critical, off");
    // Sections owned by daemons that validate them when they start.
    for (const char* later : {"thresholds", "smtp", "ollama", "insights", "notifier"}) top.child(later);
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

std::string default_config_path() {
    if (const char* env = std::getenv("ENERGYHUB_CONFIG"); env && *env) return env;
    return "/etc/energyhub/energyhub.yaml";
}

}  // namespace energyhub
