#pragma once
// Threshold rules and the alert transitions they produce. No I/O here.
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace energyhub {

enum class RuleKind : std::uint8_t { power_above, daily_energy_above, device_offline, spike };
constexpr std::size_t kRuleKindCount = 4;

constexpr std::string_view rule_name(RuleKind r) {
    constexpr std::array<std::string_view, kRuleKindCount> names = {"power_above", "daily_energy_above",
                                                                     "device_offline", "spike"};
    return names[static_cast<std::size_t>(r)];
}

// One rule as configured for a device, after the most specific layer won.
struct PowerAboveRule {
    double watts = 0;
    std::chrono::milliseconds hold{0};  // "for": how long power must stay above
    double clear_below = 0;             // resolves when power falls to this or lower
};
struct DailyEnergyRule {
    double kwh = 0;  // per local calendar day; resolves when the day ends
};
struct OfflineRule {
    std::chrono::milliseconds after{0};
};
struct SpikeRule {
    double factor = 0;                      // fires at factor × baseline
    std::chrono::milliseconds baseline{0};  // time constant of the moving average
    double clear_factor = 0;                // resolves below clear_factor × baseline
    double min_watts = 0;                   // ignore steps to small loads
};

struct RuleSet {
    std::optional<PowerAboveRule> power_above;
    std::optional<DailyEnergyRule> daily_energy_above;
    std::optional<OfflineRule> device_offline;
    std::optional<SpikeRule> spike;
};

// The rule a stored or received name means; nullopt for a name no rule has.
constexpr std::optional<RuleKind> rule_from_name(std::string_view name) {
    for (std::size_t i = 0; i < kRuleKindCount; ++i)
        if (rule_name(static_cast<RuleKind>(i)) == name) return static_cast<RuleKind>(i);
    return std::nullopt;
}

enum class AlertState : std::uint8_t { firing, resolved };

// One transition of one rule on one device. Its id is derived from what it describes, so a
// transition computed twice (a replayed reading) is the same alert and is stored once.
struct Alert {
    std::string id;
    std::string user_id;
    std::string device_id;
    RuleKind rule = RuleKind::power_above;
    AlertState state = AlertState::firing;
    double value = 0;
    double threshold = 0;
    std::int64_t since_ms = 0;  // when the condition started to hold
    std::int64_t ts_ms = 0;     // when this transition happened
    std::string message;
};

constexpr std::string_view alert_state_name(AlertState s) { return s == AlertState::firing ? "firing" : "resolved"; }

}  // namespace energyhub
