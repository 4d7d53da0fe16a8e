#pragma once
// The `thresholds` section: rules for every device, per device type, per user and per device.
// For each rule the most specific layer that mentions it wins whole (device > user > type >
// defaults); `{enabled: false}` switches a rule off at that layer.
#include <map>
#include <optional>
#include <string>

#include "domain/alert.hpp"

namespace energyhub {

class Section;

// What one layer says: per rule, absent (no opinion), or a rule (nullopt inside: disabled).
struct RuleLayer {
    std::optional<std::optional<PowerAboveRule>> power_above;
    std::optional<std::optional<DailyEnergyRule>> daily_energy_above;
    std::optional<std::optional<OfflineRule>> device_offline;
    std::optional<std::optional<SpikeRule>> spike;
};

struct ThresholdsConfig {
    RuleLayer defaults;
    std::map<std::string, RuleLayer, std::less<>> types;
    std::map<std::string, RuleLayer, std::less<>> users;
    std::map<std::string, RuleLayer, std::less<>> devices;

    // The layers that apply to a device (null where none is configured): devices with the same
    // layers have the same rules.
    struct Layers {
        const RuleLayer* type = nullptr;
        const RuleLayer* user = nullptr;
        const RuleLayer* device = nullptr;
        friend auto operator<=>(const Layers&, const Layers&) = default;
    };
    Layers layers_for(std::string_view device_id, std::string_view user_id, std::string_view type) const;
    RuleSet resolve(const Layers& layers) const;
    RuleSet resolve(std::string_view device_id, std::string_view user_id, std::string_view type) const {
        return resolve(layers_for(device_id, user_id, type));
    }
};

void read_thresholds(Section section, ThresholdsConfig& out);

}  // namespace energyhub
