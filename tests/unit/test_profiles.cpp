#include <boost/test/unit_test.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fleet.hpp"
#include "payload.hpp"
#include "profiles.hpp"
#include "units.hpp"

using namespace energyhub::sim;

namespace {

constexpr std::int64_t kStartMs = 1'795'000'000'000;  // a fixed instant: runs must not depend on today
constexpr std::int64_t kProfileStepMs = 10'000;
constexpr std::uint64_t kSeed = 42;

const std::vector<Profile> kAllProfiles{Profile::fridge, Profile::heatpump, Profile::kettle, Profile::standby,
                                        Profile::tv};

// Steps one model every kProfileStepMs for `hours` and returns the samples.
std::vector<Sample> run(Profile profile, std::uint64_t seed, std::uint64_t index, int hours) {
    DeviceModel model(profile, seed, index);
    std::vector<Sample> out;
    for (std::int64_t ts = kStartMs; ts < kStartMs + hours * kHourMs; ts += kProfileStepMs)
        out.push_back(model.step(ts));
    return out;
}

// The number after "key": in a flat JSON object, or NaN when it is missing or malformed.
double number_after(std::string_view json, std::string_view key) {
    const std::string needle = "\"" + std::string(key) + "\":";
    const auto at = json.find(needle);
    if (at == std::string_view::npos) return std::nan("");
    const char* first = json.data() + at + needle.size();
    double value = 0;
    const auto [ptr, ec] = std::from_chars(first, json.data() + json.size(), value);
    if (ec != std::errc{} || (*ptr != ',' && *ptr != '}')) return std::nan("");
    return value;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(profiles)

BOOST_AUTO_TEST_CASE(energy_counter_never_decreases) {
    for (const auto profile : kAllProfiles) {
        DeviceModel model(profile, kSeed, 3);
        double previous = -1;
        std::int64_t ts = kStartMs;
        // Three days with uneven gaps, including long pauses that span several cycles.
        for (int i = 0; i < 30'000; ++i) {
            ts += (i % 97 == 0) ? 45 * 60'000 : 1 + (i * 7919) % 20'000;
            const auto s = model.step(ts);
            BOOST_TEST_REQUIRE(s.energy_wh >= previous, profile_name(profile) << " at step " << i);
            BOOST_TEST_REQUIRE(std::isfinite(s.power_w));
            BOOST_TEST_REQUIRE(s.power_w >= 0.0);
            previous = s.energy_wh;
        }
        BOOST_TEST(previous > 0.0);
    }
}

BOOST_AUTO_TEST_CASE(energy_integrates_power) {
    // A standby load of 2-8 W over 24 h adds 48-192 Wh.
    const auto samples = run(Profile::standby, kSeed, 1, 24);
    const double added = samples.back().energy_wh - samples.front().energy_wh;
    BOOST_TEST(added >= 48.0);
    BOOST_TEST(added <= 192.0);
}

BOOST_AUTO_TEST_CASE(values_stay_in_range) {
    for (const auto profile : kAllProfiles) {
        for (const auto& s : run(profile, kSeed, 5, 24)) {
            BOOST_TEST_REQUIRE(s.voltage_v >= 207.0);
            BOOST_TEST_REQUIRE(s.voltage_v <= 253.0);
            BOOST_TEST_REQUIRE(std::fabs(s.current_a - s.power_w / s.voltage_v) < 1e-9);
            switch (profile) {
                case Profile::heatpump:
                    BOOST_TEST_REQUIRE(s.power_w >= 800.0);
                    BOOST_TEST_REQUIRE(s.power_w <= 3000.0);
                    break;
                case Profile::standby:
                    BOOST_TEST_REQUIRE(s.power_w >= 2.0);
                    BOOST_TEST_REQUIRE(s.power_w <= 8.0);
                    break;
                case Profile::tv:
                    BOOST_TEST_REQUIRE((s.power_w == 0.5 || (s.power_w >= 60.0 && s.power_w <= 200.0)));
                    break;
                default: break;
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(fridge_cycles_on_and_off) {
    const auto samples = run(Profile::fridge, kSeed, 0, 24);
    std::size_t on = 0, off = 0, switches = 0;
    bool was_on = samples.front().power_w > 50.0;
    for (const auto& s : samples) {
        const bool is_on = s.power_w > 50.0;
        (is_on ? on : off) += 1;
        if (is_on != was_on) ++switches;
        was_on = is_on;
        BOOST_TEST_REQUIRE((s.power_w < 5.0 || (s.power_w > 70.0 && s.power_w < 110.0)), "power " << s.power_w);
    }
    // Compressor runs 10-20 min of every 30-60: roughly a third of the time.
    BOOST_TEST(on > samples.size() / 6);
    BOOST_TEST(off > samples.size() / 3);
    BOOST_TEST(switches >= 20u);
}

BOOST_AUTO_TEST_CASE(kettle_is_mostly_off_with_bursts) {
    const auto samples = run(Profile::kettle, kSeed, 3, 48);
    std::size_t zero = 0, boiling = 0, bursts = 0;
    bool was_boiling = false;
    for (const auto& s : samples) {
        if (s.power_w == 0.0) ++zero;
        const bool is_boiling = s.power_w > 1500.0;
        if (is_boiling) ++boiling;
        if (is_boiling && !was_boiling) ++bursts;
        was_boiling = is_boiling;
    }
    BOOST_TEST(zero > samples.size() * 9 / 10);
    BOOST_TEST(boiling > 0u);
    BOOST_TEST(bursts >= 5u);
    BOOST_TEST(zero + boiling == samples.size());  // nothing in between
}

BOOST_AUTO_TEST_CASE(tv_draws_power_only_in_the_evening) {
    const auto samples = run(Profile::tv, kSeed, 2, 72);
    std::size_t on = 0;
    for (std::size_t i = 0; i < samples.size(); ++i) {
        if (samples[i].power_w < 60.0) continue;
        ++on;
        const auto ts = kStartMs + static_cast<std::int64_t>(i) * kProfileStepMs;
        const auto hour = (ts % (24 * kHourMs)) / kHourMs;
        BOOST_TEST_REQUIRE((hour >= 17 && hour < 23), "on at hour " << hour);
    }
    BOOST_TEST(on > 0u);
}

BOOST_AUTO_TEST_CASE(same_seed_same_series) {
    for (const auto profile : kAllProfiles) {
        const auto a = run(profile, kSeed, 9, 6);
        const auto b = run(profile, kSeed, 9, 6);
        const auto other_seed = run(profile, kSeed + 1, 9, 6);
        const auto other_device = run(profile, kSeed, 10, 6);
        bool seed_differs = false, device_differs = false;
        for (std::size_t i = 0; i < a.size(); ++i) {
            BOOST_TEST_REQUIRE(a[i].power_w == b[i].power_w);
            BOOST_TEST_REQUIRE(a[i].energy_wh == b[i].energy_wh);
            BOOST_TEST_REQUIRE(a[i].voltage_v == b[i].voltage_v);
            seed_differs = seed_differs || a[i].energy_wh != other_seed[i].energy_wh;
            device_differs = device_differs || a[i].energy_wh != other_device[i].energy_wh;
        }
        BOOST_TEST(seed_differs, profile_name(profile));
        BOOST_TEST(device_differs, profile_name(profile));
    }
}

BOOST_AUTO_TEST_CASE(payload_is_rounded_native_json) {
    PayloadBuffer buffer;
    const auto json = format_native(buffer, 1'795'836'928'589, Sample{153.24, 12345.6789, 230.04, 0.66549});
    BOOST_TEST(json ==
               R"({"ts":1795836928589,"power_w":153.2,"energy_wh":12345.679,"voltage_v":230.0,"current_a":0.665})");
    BOOST_TEST(number_after(json, "ts") == 1795836928589.0);
    BOOST_TEST(number_after(json, "power_w") == 153.2);
    BOOST_TEST(number_after(json, "energy_wh") == 12345.679);
    BOOST_TEST(number_after(json, "voltage_v") == 230.0);
    BOOST_TEST(number_after(json, "current_a") == 0.665);
}

BOOST_AUTO_TEST_CASE(payload_has_no_negative_zero) {
    PayloadBuffer buffer;
    const auto json = format_native(buffer, 1, Sample{-0.00001, 0.0, 230.0, -0.0});
    BOOST_TEST(json == R"({"ts":1,"power_w":0.0,"energy_wh":0.000,"voltage_v":230.0,"current_a":0.000})");
}

BOOST_AUTO_TEST_CASE(payload_matches_the_model) {
    for (const auto profile : kAllProfiles) {
        DeviceModel model(profile, kSeed, 4);
        PayloadBuffer buffer;
        for (std::int64_t ts = kStartMs; ts < kStartMs + 2 * kHourMs; ts += kProfileStepMs) {
            const auto s = model.step(ts);
            const auto json = format_native(buffer, ts, s);
            BOOST_TEST_REQUIRE(json.front() == '{');
            BOOST_TEST_REQUIRE(json.back() == '}');
            BOOST_TEST_REQUIRE(number_after(json, "ts") == static_cast<double>(ts));
            BOOST_TEST_REQUIRE(std::fabs(number_after(json, "power_w") - s.power_w) <= 0.05 + 1e-9);
            BOOST_TEST_REQUIRE(std::fabs(number_after(json, "energy_wh") - s.energy_wh) <= 0.0005 + 1e-9);
            BOOST_TEST_REQUIRE(std::fabs(number_after(json, "voltage_v") - s.voltage_v) <= 0.05 + 1e-9);
            BOOST_TEST_REQUIRE(std::fabs(number_after(json, "current_a") - s.current_a) <= 0.0005 + 1e-9);
        }
    }
}

BOOST_AUTO_TEST_CASE(fleet_ids_and_owners) {
    BOOST_TEST(device_id("sim", 42) == "sim-00042");
    BOOST_TEST(device_id("sim", 123456) == "sim-123456");
    BOOST_TEST(user_id("sim", 7, 3) == "sim-user-1");
    BOOST_TEST(default_user_count(3) == 1u);
    BOOST_TEST(default_user_count(50) == 10u);

    const auto fleet = make_fleet("lab", 100, 10, 4);
    BOOST_TEST(fleet.size() == 10u);
    BOOST_TEST(fleet.front().device_id == "lab-00100");
    BOOST_TEST(fleet.front().user_id == "lab-user-0");
    BOOST_TEST(fleet.back().device_id == "lab-00109");
    BOOST_TEST(fleet.back().user_id == "lab-user-1");
    // Every profile appears among any ten consecutive devices.
    for (const auto profile : kAllProfiles) {
        bool found = false;
        for (const auto& d : fleet) found = found || d.profile == profile;
        BOOST_TEST(found, profile_name(profile));
    }
}

BOOST_AUTO_TEST_SUITE_END()
