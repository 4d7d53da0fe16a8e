#pragma once
// Evaluates the threshold rules in memory, on the ingest path, one reading at a time. Per device it
// keeps a few numbers (pending since, today's energy, a moving baseline, last seen) and the state
// of each rule (RuleState, in the device table), so a rule fires once when it starts holding and
// resolves once when it stops. One engine per worker thread: no locks.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/thresholds.hpp"
#include "domain/alert.hpp"
#include "domain/reading.hpp"
#include "pipeline/device_table.hpp"

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
    // Each device's state is kept in its slot of `table`.
    RuleEngine(DeviceTable& table, std::shared_ptr<const ThresholdsConfig> thresholds, LocalDayPort& days);

    // New thresholds (SIGHUP): every device's rules are resolved again at once.
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

    // Devices with rule state: seen, seeded or with an alert firing.
    std::size_t devices();
    // Rule sets resolved for the current thresholds: one per distinct combination of layers.
    std::size_t distinct_rule_sets() const { return resolved_.size(); }

private:
    void transition(const std::string& device_id, RuleState& st, RuleKind rule, AlertState state, double value,
                    double threshold, std::int64_t since_ms, std::int64_t ts_ms, std::vector<Alert>& out);
    void resolve_rules(const std::string& device_id, RuleState& st);
    void eval_power(const std::string& id, RuleState& st, double p, std::int64_t ts, std::vector<Alert>& out);
    void eval_daily(const std::string& id, RuleState& st, const EnrichedReading& r, std::vector<Alert>& out);
    void eval_spike(const std::string& id, RuleState& st, double p, std::int64_t ts, std::vector<Alert>& out);

    DeviceTable& table_;
    std::shared_ptr<const ThresholdsConfig> thresholds_;
    LocalDayPort& days_;
    // Of the current thresholds, shared by the devices with the same layers (100,000 devices have a
    // handful); a map's nodes stay where they are, so devices hold plain pointers.
    std::map<ThresholdsConfig::Layers, RuleSet> resolved_;
};

// A stable id for a transition: the same device, rule, state and start give the same id.
std::string alert_id(std::string_view device_id, RuleKind rule, AlertState state, std::int64_t since_ms);

}  // namespace energyhub
