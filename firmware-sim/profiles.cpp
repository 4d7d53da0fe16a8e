#include "profiles.hpp"
#include "units.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

namespace energyhub::sim {

namespace {

constexpr double kMinVoltage = 207.0;  // EN 50160: 230 V +-10 %
constexpr double kMaxVoltage = 253.0;
constexpr double kMaxInitialEnergyWh = 50'000.0;

// A household mix: more small loads than big ones, every kind present in any ten devices.
constexpr std::array kIndexProfiles{Profile::fridge,  Profile::standby,  Profile::tv,     Profile::kettle,
                                    Profile::standby, Profile::heatpump, Profile::fridge, Profile::tv,
                                    Profile::standby, Profile::kettle};

// Fridge: the compressor runs 10-20 min, rests 20-40 min.
constexpr double kFridgeOnMinMin = 10, kFridgeOnMaxMin = 20;
constexpr double kFridgeOffMinMin = 20, kFridgeOffMaxMin = 40;
constexpr double kFridgeIdleW = 2.0;

// Heat pump: modulates between its limits over about two hours, with a slow random drift.
constexpr double kHeatpumpMinW = 800, kHeatpumpMaxW = 3000;
constexpr double kHeatpumpPeriodMs = 2.0 * kHourMs;
constexpr double kHeatpumpDriftTauS = 1800;  // mean reversion time
constexpr double kHeatpumpDriftSd = 0.1;     // long-run spread, as a fraction of the range

// Kettle: boils for 2-4 min, on average every 90 min (never within 5 min of the last boil).
constexpr double kKettleGapMeanMin = 90, kKettleGapMinMin = 5;
constexpr double kKettleOnMinMin = 2, kKettleOnMaxMin = 4;

// TV / computer: sessions of 30-150 min with gaps of ~40 min; drawing power only in the evening.
constexpr double kTvOnMinMin = 30, kTvOnMaxMin = 150, kTvGapMeanMin = 40;
constexpr std::int64_t kEveningStartHour = 17, kEveningEndHour = 23;  // UTC
constexpr double kTvMinW = 60, kTvMaxW = 200, kTvStandbyW = 0.5;

constexpr double kStandbyMinW = 2, kStandbyMaxW = 8;

// The splitmix64 finaliser: spreads (seed, index) pairs over the whole state space.
constexpr std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::int64_t minutes_ms(double minutes) { return static_cast<std::int64_t>(minutes * kMinuteMs); }

}  // namespace

std::string_view profile_name(Profile profile) {
    switch (profile) {
        case Profile::fridge: return "fridge";
        case Profile::heatpump: return "heatpump";
        case Profile::kettle: return "kettle";
        case Profile::standby: return "standby";
        case Profile::tv: return "tv";
        case Profile::house: return "grid";
    }
    return "unknown";
}

Profile profile_for_index(std::uint64_t index) { return kIndexProfiles[index % kIndexProfiles.size()]; }

std::uint64_t Rng::next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return mix64(state_);
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Rng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

double Rng::normal(double mean, double stddev) {
    // Box-Muller; 1 - u keeps the logarithm finite.
    const double u1 = 1.0 - uniform();
    const double u2 = uniform();
    return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double Rng::exponential(double mean) { return -mean * std::log(1.0 - uniform()); }

DeviceModel::DeviceModel(Profile profile, std::uint64_t seed, std::uint64_t index)
    : profile_(profile), rng_(mix64(seed) ^ mix64(index + 0x632be59bd9b4e019ULL)) {
    energy_wh_ = rng_.uniform(0, kMaxInitialEnergyWh);
    voltage_offset_v_ = std::clamp(rng_.normal(0, 1.5), -5.0, 5.0);
    switch (profile_) {
        case Profile::fridge: level_w_ = rng_.uniform(80, 100); break;
        case Profile::heatpump: phase_ = rng_.uniform(0, 2 * std::numbers::pi); break;
        case Profile::kettle: level_w_ = rng_.uniform(1850, 2200); break;
        case Profile::standby: level_w_ = rng_.uniform(kStandbyMinW + 0.5, kStandbyMaxW - 0.5); break;
        case Profile::tv: level_w_ = rng_.uniform(kTvMinW + 10, kTvMaxW - 10); break;
        case Profile::house: break;  // modelled by HouseModel; as an appliance it draws nothing
    }
}

template <class OnLength, class OffLength>
void DeviceModel::advance_cycle(std::int64_t ts_ms, OnLength on_length_ms, OffLength off_length_ms) {
    // A loop, not an if: a long pause between steps may span several phases.
    while (ts_ms >= phase_end_ms_) {
        on_ = !on_;
        phase_end_ms_ += std::max<std::int64_t>(1, on_ ? on_length_ms() : off_length_ms());
    }
}

double DeviceModel::fridge(std::int64_t ts_ms) {
    advance_cycle(
        ts_ms, [&] { return minutes_ms(rng_.uniform(kFridgeOnMinMin, kFridgeOnMaxMin)); },
        [&] { return minutes_ms(rng_.uniform(kFridgeOffMinMin, kFridgeOffMaxMin)); });
    if (on_) return std::max(kFridgeIdleW, rng_.normal(level_w_, 2.0));
    return std::max(1.0, rng_.normal(kFridgeIdleW, 0.2));
}

double DeviceModel::heatpump(std::int64_t ts_ms, double dt_s) {
    // Ornstein-Uhlenbeck drift: wanders, but always back towards the modulation curve.
    const double decay = std::exp(-dt_s / kHeatpumpDriftTauS);
    drift_ = drift_ * decay + rng_.normal(0, kHeatpumpDriftSd * std::sqrt(1.0 - decay * decay));
    const double angle = 2 * std::numbers::pi * static_cast<double>(ts_ms % kDayMs) / kHeatpumpPeriodMs + phase_;
    const double demand = std::clamp(0.5 + 0.35 * std::sin(angle) + drift_, 0.0, 1.0);
    const double watts = kHeatpumpMinW + (kHeatpumpMaxW - kHeatpumpMinW) * demand + rng_.normal(0, 15.0);
    return std::clamp(watts, kHeatpumpMinW, kHeatpumpMaxW);
}

double DeviceModel::kettle(std::int64_t ts_ms) {
    advance_cycle(
        ts_ms, [&] { return minutes_ms(rng_.uniform(kKettleOnMinMin, kKettleOnMaxMin)); },
        [&] { return minutes_ms(kKettleGapMinMin + rng_.exponential(kKettleGapMeanMin - kKettleGapMinMin)); });
    return on_ ? std::max(0.0, rng_.normal(level_w_, 20.0)) : 0.0;
}

double DeviceModel::standby() { return std::clamp(rng_.normal(level_w_, 0.3), kStandbyMinW, kStandbyMaxW); }

double DeviceModel::tv(std::int64_t ts_ms) {
    advance_cycle(
        ts_ms, [&] { return minutes_ms(rng_.uniform(kTvOnMinMin, kTvOnMaxMin)); },
        [&] { return minutes_ms(rng_.exponential(kTvGapMeanMin)); });
    const std::int64_t hour = (ts_ms % kDayMs) / kHourMs;
    const bool evening = hour >= kEveningStartHour && hour < kEveningEndHour;
    if (!on_ || !evening) return kTvStandbyW;
    return std::clamp(rng_.normal(level_w_, 0.03 * level_w_), kTvMinW, kTvMaxW);
}

Sample DeviceModel::step(std::int64_t ts_ms) {
    double dt_s = 0;
    const bool first = !started_;
    if (first) {
        started_ = true;
        const bool start_on = profile_ == Profile::fridge ? rng_.uniform() < 1.0 / 3.0
                              : profile_ == Profile::tv   ? rng_.uniform() < 0.5
                                                          : false;
        // advance_cycle toggles once at phase_end_ms_ == ts_ms, so store the opposite state.
        on_ = !start_on;
        phase_end_ms_ = ts_ms;
    } else {
        dt_s = static_cast<double>(std::max<std::int64_t>(0, ts_ms - last_ts_ms_)) / 1000.0;
    }

    double power = 0;
    switch (profile_) {
        case Profile::fridge: power = fridge(ts_ms); break;
        case Profile::heatpump: power = heatpump(ts_ms, dt_s); break;
        case Profile::kettle: power = kettle(ts_ms); break;
        case Profile::standby: power = standby(); break;
        case Profile::tv: power = tv(ts_ms); break;
        case Profile::house: break;
    }

    if (first && phase_end_ms_ > ts_ms) {
        // Start somewhere inside the first phase, not at its edge, so a fleet is not synchronised.
        phase_end_ms_ =
            ts_ms + 1 + static_cast<std::int64_t>(static_cast<double>(phase_end_ms_ - ts_ms) * rng_.uniform());
    }

    // The meter integrates the power it measures now over the interval since the last reading.
    energy_wh_ += power * dt_s * 1000.0 / kMsPerHour;
    last_ts_ms_ = std::max(last_ts_ms_, ts_ms);

    const double voltage =
        std::clamp(kNominalVoltage + voltage_offset_v_ + rng_.normal(0, 0.4), kMinVoltage, kMaxVoltage);
    return Sample{power, energy_wh_, voltage, power / voltage};
}

}  // namespace energyhub::sim
