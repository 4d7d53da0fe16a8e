#pragma once
// Who may publish, subscribe to and receive which topics. Pure logic: the rules are templates
// built once from the options, where one level may stand for the client's own id (its device id,
// or the user id of a dashboard account); checks allocate nothing. See README.md beside
// this file, "Who may use which topics", for the rules in prose.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "broker/options.hpp"
#include "broker/string_hash.hpp"

namespace energyhub::broker {

enum class Role : std::uint8_t {
    device,     // username = device id
    hub,        // service accounts, one per daemon
    notifier,
    insights,
    dashboard,  // read-only account of one user
    anonymous,  // no username (only when allowed)
};

// What the payload guard checks on a topic a device publishes to.
enum class Guard : std::uint8_t {
    none,
    size,  // size only (LWT, online flags, Shelly Gen1 plain values)
    json,  // size, and the payload must be one JSON object
};

struct DeviceTopic {
    Guard guard;
    std::string_view device_id;  // a view into the topic
};

class Policy {
public:
    explicit Policy(const Options& options);

    // `id` is the device id for devices and the user id for dashboards; other roles ignore it.
    bool may_publish(Role role, std::string_view id, std::string_view topic) const;
    bool may_read(Role role, std::string_view id, std::string_view topic) const;
    // A subscription is granted when every topic the filter can match is readable, except for
    // the few topics a dashboard's own subtree excludes (those are filtered per message).
    // "$share/<group>/" is stripped first.
    bool may_subscribe(Role role, std::string_view id, std::string_view filter) const;

    // Whether `topic` is a device's reading topic (whoever publishes it), and which guard applies.
    std::optional<DeviceTopic> device_topic(std::string_view topic) const;

    // First topic levels a device id must not take over for Shelly Gen2 topics ("<id>/status/#").
    bool is_reserved_first_level(std::string_view level) const;

    struct Level {
        enum class Kind : std::uint8_t { literal, id, plus, hash } kind;
        std::string text;  // literal only
    };
    struct Rule {
        std::vector<Level> levels;
        bool deny = false;
        Guard guard = Guard::none;
    };
    struct RuleSet {
        std::vector<Rule> read;
        std::vector<Rule> write;
    };

private:
    const RuleSet& rules(Role role) const;
    bool applies(const Rule& rule, std::string_view id) const;

    RuleSet device_, hub_, notifier_, insights_, dashboard_, anonymous_;
    std::unordered_set<std::string, StringHash, std::equal_to<>> reserved_;
};

// Plain MQTT matching of a concrete topic against a subscription filter (for tests and tools).
bool topic_matches(std::string_view filter, std::string_view topic);

}  // namespace energyhub::broker
