#pragma once
// Evaluates the threshold rules in memory, on the ingest path, one reading at a time. Per device it
// keeps a few numbers (pending since, today's energy, a moving baseline, last seen) and the state
// of each rule, so a rule fires once when it starts holding and resolves once when it stops.
// One engine per worker thread: no locks.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/thresholds.hpp"
#include "domain/alert.hpp"
#include "domain/reading.hpp"
#include "util/name_pool.hpp"

namespace energyhub {

// The local calendar day containing ts in an IANA time zone (the device owner's), as [start, end)
// in UTC milliseconds. The hub asks PostgreSQL (which knows every zone and its DST rules) once per
// zone and day; tests use fixed offsets.
class LocalDayPort {
public:
    virtual ~LocalDayPort() = default;
    virtual std::pair<std::int64_t, std::int64_t> day_of(std::string_view time_zone, std::int64_t ts_ms) = 0;
};

class RuleEngine {
public:
    RuleEngine(std::shared_ptr<const ThresholdsConfig> thresholds, LocalDayPort& days);

    // New thresholds (SIGHUP): each device picks them up with its next reading.
    void set_thresholds(std::shared_ptr<const ThresholdsConfig> thresholds);

    // Evaluates one reading of a known device; appends any transitions to `out`.
    void on_reading(const EnrichedReading& reading, std::string_view device_type, std::vector<Alert>& out);

    // Fires device_offline for devices silent for longer than their rule allows.
    void check_offline(std::int64_t now_ms, std::vector<Alert>& out);

    // After a restart: a device known to have been seen at `last_seen_ms` (offline checks start
    // from there, or from `not_before_ms` if later, so a restart does not fire for every device).
    void seed_device(const std::string& device_id, const std::string& user_id, const std::string& type,
                     std::int64_t last_seen_ms, std::int64_t not_before_ms);
    // After a restart: an alert that is firing, so it is neither fired again nor left open.
    void restore_firing(const Alert& alert);

    void forget(const std::string& device_id) { devices_.erase(device_id); }
    // Forgets a device and its channels "<device_id>:<n>" (a removed device).
    void forget_with_channels(const std::string& device_id);
    std::size_t devices() const { return devices_.size(); }
    // Rule sets resolved for the current thresholds: one per distinct combination of layers.
    std::size_t distinct_rule_sets() const { return resolved_.size(); }

private:
    struct RuleStatus {
        bool firing = false;
        std::int64_t since_ms = 0;
        double threshold = 0;
    };
    // Per device a few numbers; its owner, type and resolved rules are shared with every device
    // that has the same (100,000 devices have a handful of distinct ones).
    struct DeviceState {
        const std::string* user_id = NamePool::empty();  // in names_
        const std::string* type = NamePool::empty();
        std::uint64_t generation = 0;  // thresholds version the rules were resolved from; 0: not yet
        std::shared_ptr<const RuleSet> rules = kNoRules;
        std::int64_t last_ts_ms = INT64_MIN;  // newest reading evaluated
        std::int64_t last_seen_ms = INT64_MIN;
        std::int64_t above_since_ms = -1;
        std::int64_t day_start_ms = 0, day_end_ms = 0;
        double day_wh = 0;
        double last_power_w = 0;
        std::int64_t last_power_ts_ms = -1;
        double baseline_w = 0;
        std::int64_t baseline_start_ms = -1;
        std::array<RuleStatus, kRuleKindCount> status{};
    };

    static const std::shared_ptr<const RuleSet> kNoRules;

    void transition(const std::string& device_id, DeviceState& st, RuleKind rule, AlertState state, double value,
                    double threshold, std::int64_t since_ms, std::int64_t ts_ms, std::vector<Alert>& out);
    void resolve_rules(const std::string& device_id, DeviceState& st);
    void eval_power(const std::string& id, DeviceState& st, double p, std::int64_t ts, std::vector<Alert>& out);
    void eval_daily(const std::string& id, DeviceState& st, const EnrichedReading& r, std::vector<Alert>& out);
    void eval_spike(const std::string& id, DeviceState& st, double p, std::int64_t ts, std::vector<Alert>& out);

    std::shared_ptr<const ThresholdsConfig> thresholds_;
    std::uint64_t generation_ = 1;
    LocalDayPort& days_;
    std::unordered_map<std::string, DeviceState> devices_;
    NamePool names_;                                                               // user ids and device types
    std::map<ThresholdsConfig::Layers, std::shared_ptr<const RuleSet>> resolved_;  // of this generation
};

// A stable id for a transition: the same device, rule, state and start give the same id.
std::string alert_id(std::string_view device_id, RuleKind rule, AlertState state, std::int64_t since_ms);

}  // namespace energyhub
