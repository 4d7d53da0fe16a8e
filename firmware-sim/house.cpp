#include "house.hpp"
#include "units.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace energyhub::sim {

namespace {

// A rooftop system of 4-9 kWp; the sun is up six hours either side of its noon.
constexpr double kPvPeakMinW = 4'000, kPvPeakMaxW = 9'000;
constexpr double kDaylightHalfHours = 6.0;
// Clouds: a mean-reverting walk between overcast and clear, changing over about 20 minutes.
constexpr double kCloudMean = 0.8, kCloudSd = 0.2, kCloudTauS = 1'200, kCloudMin = 0.15;

// Which appliances hang on which phase.
constexpr std::array<std::pair<std::size_t, Profile>, 6> kLoads = {{
    {0, Profile::fridge},
    {0, Profile::tv},
    {1, Profile::kettle},
    {1, Profile::standby},
    {2, Profile::fridge},  // the freezer
    {2, Profile::standby},
}};

}  // namespace

HouseModel::HouseModel(std::uint64_t seed, std::uint64_t index, int pv_noon_hour)
    : rng_(seed * 0x9e3779b97f4a7c15ULL + index * 0xd1b54a32d192ed03ULL + 1), pv_noon_hour_(pv_noon_hour) {
    for (std::size_t i = 0; i < kLoads.size(); ++i)
        loads_.emplace_back(kLoads[i].first, DeviceModel(kLoads[i].second, seed, index * kLoads.size() + i));
    for (std::size_t p = 0; p < kPhases; ++p) {
        base_w_[p] = rng_.uniform(30, 90);
        voltage_offset_v_[p] = std::clamp(rng_.normal(0, 1.5), -5.0, 5.0);
        // Years of counters: imports well above exports, and a net register that stays positive.
        meter_.phases[p].import_wh = rng_.uniform(1e6, 3e6);
        meter_.phases[p].export_wh = rng_.uniform(1e5, 8e5);
    }
    pv_peak_w_ = rng_.uniform(kPvPeakMinW, kPvPeakMaxW);
    cloud_ = kCloudMean;
    for (const auto& ph : meter_.phases) meter_.net_wh += ph.import_wh - ph.export_wh;
}

double HouseModel::production(std::int64_t ts_ms, double dt_s) {
    const double decay = std::exp(-dt_s / kCloudTauS);
    cloud_ = kCloudMean + (cloud_ - kCloudMean) * decay + rng_.normal(0, kCloudSd * std::sqrt(1.0 - decay * decay));
    cloud_ = std::clamp(cloud_, kCloudMin, 1.0);
    const double hour = static_cast<double>(((ts_ms % kDayMs) + kDayMs) % kDayMs) / kMsPerHour;
    double from_noon = std::fabs(hour - pv_noon_hour_);
    from_noon = std::min(from_noon, 24.0 - from_noon);
    if (from_noon >= kDaylightHalfHours) return 0;
    const double sun = std::cos(from_noon / kDaylightHalfHours * std::numbers::pi / 2);
    return pv_peak_w_ * sun * sun * cloud_;
}

HouseSample HouseModel::step(std::int64_t ts_ms) {
    const double dt_s = started_ ? static_cast<double>(std::max<std::int64_t>(0, ts_ms - last_ts_ms_)) / 1000.0 : 0.0;
    started_ = true;
    last_ts_ms_ = std::max(last_ts_ms_, ts_ms);

    std::array<double, kPhases> load = base_w_;
    for (auto& [phase, model] : loads_) load[phase] += model.step(ts_ms).power_w;
    meter_.production_w = production(ts_ms, dt_s);

    const double hours = dt_s / 3600.0;
    meter_.power_w = meter_.current_a = meter_.import_wh = meter_.export_wh = 0;
    for (std::size_t p = 0; p < kPhases; ++p) {
        auto& ph = meter_.phases[p];
        ph.power_w = load[p] - meter_.production_w / kPhases;  // a three-phase inverter
        ph.voltage_v = kNominalVoltage + voltage_offset_v_[p] + rng_.normal(0, 0.4);
        ph.current_a = std::fabs(ph.power_w) / ph.voltage_v;
        const double imported = std::max(0.0, ph.power_w) * hours, exported = std::max(0.0, -ph.power_w) * hours;
        ph.import_wh += imported;
        ph.export_wh += exported;
        meter_.net_wh += imported - exported;
        meter_.power_w += ph.power_w;
        meter_.current_a += ph.current_a;
        meter_.import_wh += ph.import_wh;
        meter_.export_wh += ph.export_wh;
    }
    return meter_;
}

}  // namespace energyhub::sim
