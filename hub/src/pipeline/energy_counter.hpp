#pragma once
// Turns a device's cumulative energy counters into the energy used (import) and returned to the
// grid (export) since its previous reading. No I/O.
//
// A counter that goes down was either reset (power loss, firmware update: the new value is what
// has accumulated since the reset) or is a net register running backwards while the site exports
// (Tasmota adds export into Total with a negative sign, as old Ferraris meters did). A drop of the
// import counter counts as export when the meter said so: a negative power (net export) was seen
// since the previous counter and the drop is no more than that power could have returned in the
// time between (with slack for power that varies between samples), or the meter's own export
// counter rose by as much. Export then comes from the export counter where the meter has one (it
// already counts what made the register fall), else from the drop. Without either a net register
// cannot be told from a reset.
#include <cstdint>
#include <optional>

#include "domain/reading.hpp"

namespace energyhub {

struct EnergyStep {
    std::optional<double> import_wh;
    std::optional<double> export_wh;
};

// How much more a net counter may fall than the lowest power seen explains, and the resolution
// of the coarsest counter (Tasmota's kWh with three decimals).
constexpr double kNetExportSlack = 2.0;
constexpr double kCounterResolutionWh = 1.0;

// Usage between `state` and `reading`, and `state` moved to `reading`. Only a reading newer than
// the state's counters moves them; a late or replayed reading carries no usage.
EnergyStep advance_counters(CounterState& state, const Reading& reading);

}  // namespace energyhub
