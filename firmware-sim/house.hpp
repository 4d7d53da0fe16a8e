#pragma once
// The "house" profile: a whole home behind a three-phase grid meter. The household's loads (the
// device models of profiles.hpp) are spread over the phases, and a rooftop solar system on all
// three phases produces along a day curve that peaks at a chosen UTC hour, with passing clouds:
// the meter imports at night and exports around midday. Like the device models it reads no clock
// and does no I/O.
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "profiles.hpp"

namespace energyhub::sim {

constexpr std::size_t kPhases = 3;

struct PhaseSample {
    double power_w = 0;  // net: negative while the phase exports
    double voltage_v = 0;
    double current_a = 0;
    double import_wh = 0;  // cumulative, one counter per direction
    double export_wh = 0;
};

struct HouseSample {
    std::array<PhaseSample, kPhases> phases{};
    double power_w = 0;       // net over the phases
    double current_a = 0;     // summed over the phases
    double import_wh = 0;     // summed over the phases, as a Shelly Pro 3EM counts
    double export_wh = 0;
    double net_wh = 0;        // one signed register, import minus export, as Tasmota's Total counts
    double production_w = 0;  // what the solar system produced at this instant
};

class HouseModel {
public:
    // `pv_noon_hour` is the UTC hour at which the sun is highest over the panels.
    HouseModel(std::uint64_t seed, std::uint64_t index, int pv_noon_hour);

    // Advances to ts_ms (never backwards) and returns the meter's reading; the first call adds no
    // energy, like DeviceModel::step.
    HouseSample step(std::int64_t ts_ms);

private:
    double production(std::int64_t ts_ms, double dt_s);

    Rng rng_;
    std::vector<std::pair<std::size_t, DeviceModel>> loads_;  // phase, appliance
    std::array<double, kPhases> base_w_{};                    // always-on load of each phase
    std::array<double, kPhases> voltage_offset_v_{};
    double pv_peak_w_ = 0;
    double cloud_ = 1;  // 0..1, a slow random walk
    int pv_noon_hour_ = 12;
    bool started_ = false;
    std::int64_t last_ts_ms_ = 0;
    HouseSample meter_;
};

}  // namespace energyhub::sim
