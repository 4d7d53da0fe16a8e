#pragma once
// Power models of simulated household devices. A model is a function of (seed, device index, the
// timestamps it is stepped with): it reads no clock and does no I/O, so a run can be replayed and
// the models are tested offline.
#include <cstdint>
#include <string_view>

namespace energyhub::sim {

// The appliances, and a whole house behind its grid meter (house.hpp: a HouseModel, registered
// with the meter's role "grid" as its type).
enum class Profile { fridge, heatpump, kettle, standby, tv, house };

// Also the device type registered for the profile.
std::string_view profile_name(Profile profile);

// The profile of a device follows from its index alone, so a device keeps its type across runs
// whatever the seed, and --register agrees with what is published.
Profile profile_for_index(std::uint64_t index);

// One reading, before rounding for the payload.
struct Sample {
    double power_w = 0;
    double energy_wh = 0;  // cumulative, never decreases
    double voltage_v = 0;
    double current_a = 0;
};

// splitmix64: 8 bytes of state per device (a fleet may have 100k of them) and, unlike the
// std:: distributions, the same output from every standard library.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next();
    double uniform();  // [0, 1)
    double uniform(double lo, double hi);
    double normal(double mean, double stddev);
    double exponential(double mean);

private:
    std::uint64_t state_;
};

class DeviceModel {
public:
    DeviceModel(Profile profile, std::uint64_t seed, std::uint64_t index);

    Profile profile() const { return profile_; }

    // Advances the model to ts_ms and returns the reading at that time. Timestamps must not go
    // backwards; the first call only places the device in its cycle and adds no energy.
    Sample step(std::int64_t ts_ms);

private:
    double fridge(std::int64_t ts_ms);
    double heatpump(std::int64_t ts_ms, double dt_s);
    double kettle(std::int64_t ts_ms);
    double standby();
    double tv(std::int64_t ts_ms);

    // Toggles on_ at every phase end up to ts_ms; phase lengths come from the callers' lambdas.
    template <class OnLength, class OffLength>
    void advance_cycle(std::int64_t ts_ms, OnLength on_length_ms, OffLength off_length_ms);

    Profile profile_;
    Rng rng_;
    bool started_ = false;
    std::int64_t last_ts_ms_ = 0;
    double energy_wh_ = 0;
    double voltage_offset_v_ = 0;  // each socket sits a little above or below nominal
    double level_w_ = 0;           // per-device power level (compressor, kettle, set, standby base)
    double phase_ = 0;             // heat pump: where in its slow modulation the device starts
    double drift_ = 0;             // heat pump: mean-reverting random walk on top of the modulation
    bool on_ = false;              // fridge compressor running, kettle boiling, TV session active
    std::int64_t phase_end_ms_ = 0;
};

}  // namespace energyhub::sim
