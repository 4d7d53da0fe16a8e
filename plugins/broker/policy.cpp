#include "broker/policy.hpp"

namespace energyhub::broker {

namespace {

using Level = Policy::Level;
using Kind = Level::Kind;
using Rule = Policy::Rule;

// Walks the levels of a topic or filter without allocating.
class LevelReader {
public:
    explicit LevelReader(std::string_view text) : rest_(text) {}

    bool next(std::string_view& level) {
        if (done_) return false;
        auto slash = rest_.find('/');
        if (slash == std::string_view::npos) {
            level = rest_;
            done_ = true;
        } else {
            level = rest_.substr(0, slash);
            rest_.remove_prefix(slash + 1);
        }
        return true;
    }
    bool done() const { return done_; }

private:
    std::string_view rest_;
    bool done_ = false;
};

// A piece of a rule template: a literal that may span levels ("energyhub/status"), the
// client's own id, or a wildcard.
struct Piece {
    Kind kind;
    std::string text;
    Piece(const std::string& literal) : kind(Kind::literal), text(literal) {}  // NOLINT: implicit on purpose
    Piece(const char* literal) : kind(Kind::literal), text(literal) {}         // NOLINT
    explicit Piece(Kind k) : kind(k) {}
};
const Piece kId{Kind::id};
const Piece kPlus{Kind::plus};
const Piece kHash{Kind::hash};

Rule make_rule(std::initializer_list<Piece> pieces, Guard guard = Guard::none, bool deny = false) {
    Rule rule;
    rule.guard = guard;
    rule.deny = deny;
    for (const auto& piece : pieces) {
        if (piece.kind != Kind::literal) {
            rule.levels.push_back({piece.kind, {}});
            continue;
        }
        LevelReader reader(piece.text);
        std::string_view level;
        while (reader.next(level)) rule.levels.push_back({Kind::literal, std::string(level)});
    }
    return rule;
}

// Topics starting with '$' are never matched by a wildcard in the first level (MQTT 4.7.2).
bool is_dollar(std::string_view s) { return !s.empty() && s.front() == '$'; }

// Does the rule match the concrete topic? With `captured`, the id level matches any level and
// reports it; otherwise it must equal `id`.
bool match(const std::vector<Level>& rule, std::string_view id, std::string_view topic, std::string_view* captured) {
    const bool dollar = is_dollar(topic);
    LevelReader reader(topic);
    std::string_view level;
    for (std::size_t i = 0; i < rule.size(); ++i) {
        const auto& r = rule[i];
        if (r.kind == Kind::hash) return !(i == 0 && dollar);
        if (!reader.next(level)) return false;
        switch (r.kind) {
        case Kind::plus:
            if (i == 0 && dollar) return false;
            break;
        case Kind::id:
            if (captured) {
                if (level.empty() || (i == 0 && dollar)) return false;
                *captured = level;
            } else if (id.empty() || level != id) {
                return false;
            }
            break;
        case Kind::literal:
            if (level != r.text) return false;
            break;
        case Kind::hash:
            break;  // handled above
        }
    }
    return reader.done();
}

// Does the rule match every topic the subscription filter can match?
bool covers(const std::vector<Level>& rule, std::string_view id, std::string_view filter) {
    const bool dollar = is_dollar(filter);
    LevelReader reader(filter);
    std::string_view level;
    for (std::size_t i = 0; i < rule.size(); ++i) {
        const auto& r = rule[i];
        if (r.kind == Kind::hash) return !(i == 0 && dollar);
        if (!reader.next(level)) return false;  // the rule needs more levels than the filter has
        if (level == "#") return false;         // only '#' covers '#'
        if (level == "+") {
            if (r.kind != Kind::plus) return false;
            continue;
        }
        switch (r.kind) {
        case Kind::plus:
            if (i == 0 && dollar) return false;
            break;
        case Kind::id:
            if (id.empty() || level != id) return false;
            break;
        case Kind::literal:
            if (level != r.text) return false;
            break;
        case Kind::hash:
            break;
        }
    }
    return reader.done();
}

std::string_view first_level(std::string_view topic) { return topic.substr(0, topic.find('/')); }

}  // namespace

Policy::Policy(const Options& o) {
    // Devices publish only their own reading topics and read only their own command topics.
    device_.write = {
        make_rule({o.reading_prefix, kId, "reading"}, Guard::json),
        make_rule({o.tasmota_prefix, kId, "SENSOR"}, Guard::json),
        make_rule({o.tasmota_prefix, kId, "STATE"}, Guard::json),
        make_rule({o.tasmota_prefix, kId, "LWT"}, Guard::size),
        make_rule({kId, "status", kHash}, Guard::json),
        make_rule({kId, "online"}, Guard::size),
        make_rule({kId, "events/rpc"}, Guard::json),
        make_rule({o.shelly_gen1_prefix, kId, kHash}, Guard::size),
    };
    device_.read = {
        make_rule({o.tasmota_command_prefix, kId, kHash}),
        make_rule({kId, "rpc"}),
        make_rule({kId, "command", kHash}),
        make_rule({o.shelly_gen1_prefix, kId, kHash}),
        make_rule({o.shelly_gen1_prefix, "command"}),
    };

    // Service accounts: what their daemon needs and no more.
    hub_.read = {
        make_rule({o.reading_prefix, kPlus, "reading"}),
        make_rule({o.tasmota_prefix, kPlus, "SENSOR"}),
        make_rule({o.tasmota_prefix, kPlus, "STATE"}),
        make_rule({o.tasmota_prefix, kPlus, "LWT"}),
        make_rule({kPlus, "status", kHash}),
        make_rule({kPlus, "online"}),
        make_rule({kPlus, "events/rpc"}),
        make_rule({o.shelly_gen1_prefix, kHash}),
    };
    hub_.write = {
        make_rule({o.state_prefix, kPlus, kPlus, "state"}),
        make_rule({o.state_prefix, kPlus, kPlus, "availability"}),
        make_rule({o.deadletter_topic}),
        make_rule({o.status_prefix, "hub"}),
        make_rule({o.status_prefix, "hub", kPlus}),  // one per instance (its client id) when several run
        make_rule({o.alert_prefix, kHash}),
    };
    if (!o.discovery_prefix.empty()) hub_.write.push_back(make_rule({o.discovery_prefix, kHash}));
    notifier_.read = {make_rule({o.alert_prefix, kHash})};
    notifier_.write = {make_rule({o.status_prefix, "notifier"}), make_rule({o.status_prefix, "notifier", kPlus})};
    insights_.read = {make_rule({o.alert_prefix, kHash})};
    insights_.write = {make_rule({o.insights_prefix, kHash}), make_rule({o.status_prefix, "insights"}),
                       make_rule({o.status_prefix, "insights", kPlus})};

    // Dashboards read their user's subtrees and the daemons' status; they publish nothing. A
    // device whose id equals the user id must not leak its raw readings into that subtree.
    dashboard_.read = {
        make_rule({o.state_prefix, kId, kHash}),
        make_rule({o.reading_prefix, kId, "reading"}, Guard::none, true),
        make_rule({o.alert_prefix, kId, kHash}),
        make_rule({o.insights_prefix, kId}),
        make_rule({o.status_prefix, kHash}),
    };
    if (o.dashboard_discovery && !o.discovery_prefix.empty()) dashboard_.read.push_back(make_rule({o.discovery_prefix, kHash}));

    anonymous_.read = {make_rule({o.status_prefix, kHash})};

    for (const auto* topic : {&o.reading_prefix, &o.state_prefix, &o.tasmota_prefix, &o.tasmota_command_prefix,
                              &o.shelly_gen1_prefix, &o.alert_prefix, &o.insights_prefix, &o.status_prefix,
                              &o.deadletter_topic, &o.discovery_prefix}) {
        if (!topic->empty()) reserved_.emplace(first_level(*topic));
    }
    for (const char* other : {"stat", "tasmota"}) reserved_.emplace(other);  // Tasmota's other trees
}

bool Policy::is_reserved_first_level(std::string_view level) const { return reserved_.find(level) != reserved_.end(); }

const Policy::RuleSet& Policy::rules(Role role) const {
    switch (role) {
    case Role::device: return device_;
    case Role::hub: return hub_;
    case Role::notifier: return notifier_;
    case Role::insights: return insights_;
    case Role::dashboard: return dashboard_;
    case Role::anonymous: break;
    }
    return anonymous_;
}

// A rule with the id as its first level (Shelly Gen2) does not apply to an id that is one of our
// own top-level trees: a device called "energyhub" must not publish "energyhub/status/hub".
bool Policy::applies(const Rule& rule, std::string_view id) const {
    return rule.levels.empty() || rule.levels.front().kind != Kind::id || !is_reserved_first_level(id);
}

bool Policy::may_publish(Role role, std::string_view id, std::string_view topic) const {
    for (const auto& rule : rules(role).write) {
        if (applies(rule, id) && match(rule.levels, id, topic, nullptr)) return true;
    }
    return false;
}

bool Policy::may_read(Role role, std::string_view id, std::string_view topic) const {
    bool allowed = false;
    for (const auto& rule : rules(role).read) {
        if (!applies(rule, id) || !match(rule.levels, id, topic, nullptr)) continue;
        if (rule.deny) return false;
        allowed = true;
    }
    return allowed;
}

bool Policy::may_subscribe(Role role, std::string_view id, std::string_view filter) const {
    constexpr std::string_view share = "$share/";
    if (filter.substr(0, share.size()) == share) {
        auto slash = filter.find('/', share.size());
        if (slash == std::string_view::npos || slash == share.size()) return false;
        filter.remove_prefix(slash + 1);
    }
    if (filter.empty()) return false;
    bool allowed = false;
    for (const auto& rule : rules(role).read) {
        if (!applies(rule, id) || !covers(rule.levels, id, filter)) continue;
        if (rule.deny) return false;
        allowed = true;
    }
    return allowed;
}

std::optional<DeviceTopic> Policy::device_topic(std::string_view topic) const {
    for (const auto& rule : device_.write) {
        std::string_view id;
        if (!match(rule.levels, {}, topic, &id)) continue;
        if (rule.levels.front().kind == Kind::id && is_reserved_first_level(id)) continue;
        return DeviceTopic{rule.guard, id};
    }
    return std::nullopt;
}

bool topic_matches(std::string_view filter, std::string_view topic) {
    Rule rule;
    LevelReader reader(filter);
    std::string_view level;
    while (reader.next(level)) {
        if (level == "+") rule.levels.push_back({Kind::plus, {}});
        else if (level == "#") rule.levels.push_back({Kind::hash, {}});
        else rule.levels.push_back({Kind::literal, std::string(level)});
    }
    return match(rule.levels, {}, topic, nullptr);
}

}  // namespace energyhub::broker
