#include "config/nats_fleet.hpp"

#include <sstream>
#include <vector>

#include "domain/device_partition.hpp"

namespace energyhub {

namespace {

constexpr std::string_view kPartitionRoot = "hub";

std::vector<std::string_view> levels_of(std::string_view topic) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
        auto slash = topic.find('/', start);
        out.push_back(topic.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
        if (slash == std::string_view::npos) return out;
        start = slash + 1;
    }
}

// Whether some topic matches both MQTT filters.
bool filters_overlap(std::string_view a, std::string_view b) {
    const auto x = levels_of(a), y = levels_of(b);
    for (std::size_t i = 0;; ++i) {
        if (i < x.size() && x[i] == "#") return true;
        if (i < y.size() && y[i] == "#") return true;
        if (i == x.size() || i == y.size()) return x.size() == y.size();
        if (x[i] != "+" && y[i] != "+" && x[i] != y[i]) return false;
    }
}

// Every reading filter of the configuration: the native one, then the device formats'.
std::vector<std::string> reading_filters(const MqttConfig& mqtt) {
    std::vector<std::string> out{mqtt.reading_topic};
    for (const auto& t : mqtt.device_topics) out.push_back(t.filter);
    return out;
}

std::uint32_t partition_count(const Config& config) {
    const auto p = DevicePartition::parse(config.hub.partition);
    if (!p || config.mqtt.broker != BrokerKind::nats)
        throw ConfigError(config.source + ": NATS mappings need mqtt.broker: nats and hub.partition i/n");
    return p->count();
}

// An MQTT filter as NATS subjects: '/' -> '.', '+' -> '*', and a final '#' as both the parent
// and '>' (MQTT's '#' matches the parent level too; NATS's '>' needs a token). A '+' at the
// device level becomes `device` when one is given.
void add_subjects(std::vector<std::string>& out, std::string_view filter, std::string_view device = {}) {
    std::string subject;
    bool device_done = device.empty();
    for (auto level : levels_of(filter)) {
        if (level == "#") {
            out.push_back(subject);
            out.push_back(subject + ".>");
            return;
        }
        if (!subject.empty()) subject += '.';
        if (level == "+" && !device_done) {
            subject += device;
            device_done = true;
        } else {
            subject += level == "+" ? std::string_view("*") : level;
        }
    }
    out.push_back(subject);
}

std::string quoted_list(const std::vector<std::string>& subjects) {
    std::string out = "[";
    for (const auto& s : subjects) out += (out.size() > 1 ? ", \"" : "\"") + s + "\"";
    return out + "]";
}

// The levels of a filter before its device level: "shelly/+/status/+" -> "shelly/".
std::string before_device(const std::string& filter) {
    const auto plus = filter.find('+');
    return filter.substr(0, plus);
}

}  // namespace

std::uint32_t nats_partition(std::string_view device_id, std::uint32_t partitions) {
    std::uint32_t h = 0x811c9dc5;
    for (unsigned char c : device_id) h = (h ^ c) * 0x01000193;
    return h % partitions;
}

std::string nats_authorization(const Config& config, const std::vector<NatsUser>& users) {
    const auto n = partition_count(config);
    const auto& m = config.mqtt;
    const auto filters = reading_filters(m);
    std::ostringstream out;
    out << "# energyhub nats-auth (" << config.source << "): " << users.size()
        << " users from the registry. Written again and reloaded when devices or accounts change.\n"
        << "authorization {\n  users = [\n";
    for (const auto& u : users) {
        // A QoS-1 subscription is a JetStream consumer delivering on $MQTT.sub.<id>.
        std::vector<std::string> publish, subscribe{"$MQTT.sub.>"}, deny_subscribe;
        const auto daemon_status = [&](const std::string& daemon) {  // one per instance when several run
            add_subjects(publish, m.status_prefix + "/" + daemon);
            add_subjects(publish, m.status_prefix + "/" + daemon + "/+");
        };
        switch (u.role) {
            case NatsUser::Role::device: {
                for (const auto& f : filters)
                    add_subjects(publish, partition_filter(f, nats_partition(u.name, n)), u.name);
                add_subjects(subscribe, "cmnd/+/#", u.name);  // Tasmota's commands
                add_subjects(subscribe, "shellies/command");
                for (const auto& t : m.device_topics) {
                    if (t.format == PayloadFormat::shelly_gen1)
                        add_subjects(subscribe, before_device(t.filter) + "+/#", u.name);
                    if (t.format == PayloadFormat::shelly) {  // Gen2 RPC and commands under its topic prefix
                        add_subjects(subscribe, before_device(t.filter) + "+/rpc", u.name);
                        add_subjects(subscribe, before_device(t.filter) + "+/command/#", u.name);
                    }
                }
                break;
            }
            case NatsUser::Role::hub:
                for (const auto& f : filters) add_subjects(subscribe, std::string(kPartitionRoot) + "/+/" + f);
                for (const char* leaf : {"/+/+/state", "/+/+/availability"})
                    add_subjects(publish, m.state_prefix + leaf);
                add_subjects(publish, m.deadletter_topic);
                add_subjects(publish, m.alert_prefix + "/#");
                if (!m.discovery_prefix.empty()) add_subjects(publish, m.discovery_prefix + "/#");
                daemon_status("hub");
                break;
            case NatsUser::Role::notifier:
                add_subjects(subscribe, m.alert_prefix + "/#");
                daemon_status("notifier");
                break;
            case NatsUser::Role::insights:
                add_subjects(subscribe, m.alert_prefix + "/#");
                add_subjects(publish, config.insights.topic_prefix + "/#");
                daemon_status("insights");
                break;
            case NatsUser::Role::dashboard:
                add_subjects(subscribe, m.state_prefix + "/" + u.user_id + "/#");
                add_subjects(subscribe, m.alert_prefix + "/" + u.user_id + "/#");
                add_subjects(subscribe, config.insights.topic_prefix + "/" + u.user_id);
                add_subjects(subscribe, m.status_prefix + "/#");
                if (!m.discovery_prefix.empty()) add_subjects(subscribe, m.discovery_prefix + "/#");
                // A device whose id is this user's id must not show its raw readings here (the
                // mappings already move them under hub/; this holds if a node lacks them).
                add_subjects(deny_subscribe, m.reading_topic, u.user_id);
                break;
        }
        out << "    { user: \"" << u.name << "\", password: \"" << u.password_hash << "\", permissions: {\n"
            << "        publish: " << (publish.empty() ? "{ deny: [\">\"] }" : quoted_list(publish)) << "\n"
            << "        subscribe: { allow: " << quoted_list(subscribe)
            << (deny_subscribe.empty() ? "" : ", deny: " + quoted_list(deny_subscribe)) << " } } }\n";
    }
    out << "  ]\n}\n";
    return out.str();
}

std::string partition_filter(const std::string& filter, std::uint32_t partition) {
    return std::string(kPartitionRoot) + "/" + std::to_string(partition) + "/" + filter;
}

Config with_broker_partition(Config config) {
    const auto p = DevicePartition::parse(config.hub.partition);
    if (config.mqtt.broker != BrokerKind::nats || !p) return config;
    config.mqtt.reading_topic = partition_filter(config.mqtt.reading_topic, p->index());
    for (auto& t : config.mqtt.device_topics) t.filter = partition_filter(t.filter, p->index());
    config.hub.partition.clear();
    return config;
}

std::string nats_mappings(const Config& config) {
    const auto n = partition_count(config);
    std::ostringstream out;
    out << "# energyhub nats-mappings (" << config.source << "): each device's readings to one of " << n
        << " partitions,\n# received by the hub with hub.partition i/" << n << " as " << kPartitionRoot
        << "/<i>/<filter>. The same on every node.\nmappings: {\n";
    for (const auto& filter : reading_filters(config.mqtt)) {
        std::string source, destination = std::string(kPartitionRoot) + ".{{partition(" + std::to_string(n) + ",1)}}";
        int wildcard = 0;
        for (auto level : levels_of(filter)) {
            const bool any = level == "+";
            source += (source.empty() ? "" : ".") + std::string(any ? "*" : level);
            destination += "." + (any ? "{{wildcard(" + std::to_string(++wildcard) + ")}}" : std::string(level));
        }
        out << "  \"" << source << "\": \"" << destination << "\"\n";
    }
    out << "}\n";
    return out.str();
}

void check_nats_fleet(Section& top, const Config& c) {
    auto mqtt = top.section("mqtt");
    auto topics = mqtt.section("topics");
    const auto& m = c.mqtt;
    if (m.qos == 2)
        mqtt.fail(mqtt.child("qos"), "mqtt.qos", "must be 0 or 1 with mqtt.broker nats (NATS has no QoS 2)");
    if (m.receive_maximum != 0)
        mqtt.fail(mqtt.child("receive_maximum"), "mqtt.receive_maximum",
                  "must be 0 with mqtt.broker nats (NATS speaks MQTT 3.1.1 only)");
    if (!m.share_group.empty())
        mqtt.fail(mqtt.child("share_group"), "mqtt.share_group",
                  "cannot be used with mqtt.broker nats (a share group does not span the nodes): use hub.partition");
    auto hub = top.section("hub");
    if (!DevicePartition::parse(c.hub.partition))
        hub.fail(hub.child("partition").IsDefined() ? hub.child("partition") : hub.node(), "hub.partition",
                 "is required with mqtt.broker nats: i/n, n as in the cluster's mappings (energyhub nats-mappings)");

    // What the daemons publish, as filters: a reading filter matching one of them would have the
    // mapping move it under a partition, out of sight of dashboards and the other daemons.
    std::vector<std::string> published{m.status_prefix + "/+", m.status_prefix + "/+/+", m.alert_prefix + "/+/+",
                                       m.state_prefix + "/+/+/+", m.deadletter_topic};
    if (!m.discovery_prefix.empty()) published.push_back(m.discovery_prefix + "/#");
    const auto filters = reading_filters(m);
    for (std::size_t i = 0; i < filters.size(); ++i) {
        const auto& f = filters[i];
        const auto at = topics.child(i == 0 ? "reading" : "devices");
        const auto key =
            i == 0 ? std::string("mqtt.topics.reading") : "mqtt.topics.devices[" + std::to_string(i - 1) + "]";
        for (auto level : levels_of(f)) {
            if (level == "#")
                topics.fail(at, key, "'" + f + "': no '#' with mqtt.broker nats (a mapping needs every level)");
            if (level.find_first_of(". *>") != std::string_view::npos)
                topics.fail(at, key, "'" + f + "': NATS cannot carry '.', ' ', '*' or '>' in a topic level");
        }
        for (std::size_t j = 0; j < i; ++j)
            if (filters_overlap(f, filters[j]))
                topics.fail(at, key,
                            "'" + f + "' overlaps '" + filters[j] + "': NATS would map their topics either way");
        for (const auto& p : published)
            if (filters_overlap(f, p))
                topics.fail(at, key,
                            "'" + f + "' also matches the daemons' topics " + p +
                                ", which its mapping would move: change one of them");
    }
}

}  // namespace energyhub
