#include "pipeline/energy_counter.hpp"

#include <algorithm>

namespace energyhub {

namespace {

constexpr double kMsPerHour = 3'600'000.0;

// Usage of an export counter, or of an import counter that cannot be a net counter.
double counter_delta(double previous, double current) { return current >= previous ? current - previous : current; }

// Whether a drop of an import counter is what a net export explains: the lowest power seen, or
// the rise of the meter's export counter.
bool explained_by_export(double drop_wh, const CounterState& before, const Reading& now) {
    if (before.min_power_w && *before.min_power_w < 0 && before.ts_ms && now.ts_ms > *before.ts_ms) {
        const double possible_wh = -*before.min_power_w * static_cast<double>(now.ts_ms - *before.ts_ms) / kMsPerHour;
        if (drop_wh <= possible_wh * kNetExportSlack + kCounterResolutionWh) return true;
    }
    if (now.energy_export_wh && before.export_wh && *now.energy_export_wh >= *before.export_wh)
        return drop_wh <= (*now.energy_export_wh - *before.export_wh) * kNetExportSlack + kCounterResolutionWh;
    return false;
}

void lower(std::optional<double>& min, const std::optional<double>& v) {
    if (v && (!min || *v < *min)) min = v;
}

}  // namespace

EnergyStep advance_counters(CounterState& state, const Reading& reading) {
    EnergyStep step;
    if (state.ts_ms && reading.ts_ms <= *state.ts_ms) return step;  // late or replayed
    if (!reading.energy_wh && !reading.energy_export_wh) {
        lower(state.min_power_w, reading.power_w);  // power between two counters: evidence of export
        return step;
    }
    lower(state.min_power_w, reading.power_w);

    std::optional<double> net_export_wh;
    if (reading.energy_wh && state.import_wh) {
        const double previous = *state.import_wh, current = *reading.energy_wh;
        if (current >= previous) {
            step.import_wh = current - previous;
        } else if (explained_by_export(previous - current, state, reading)) {
            step.import_wh = 0.0;
            net_export_wh = previous - current;
        } else {
            step.import_wh = current;  // reset
        }
    }
    if (reading.energy_export_wh) {
        if (state.export_wh) step.export_wh = counter_delta(*state.export_wh, *reading.energy_export_wh);
    } else if (net_export_wh) {
        step.export_wh = net_export_wh;
    }

    state.ts_ms = reading.ts_ms;
    if (reading.energy_wh) state.import_wh = reading.energy_wh;
    if (reading.energy_export_wh) state.export_wh = reading.energy_export_wh;
    state.min_power_w = reading.power_w;
    return step;
}

}  // namespace energyhub
