#include "vendor_payload.hpp"
#include "units.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>

namespace energyhub::sim {

namespace {

class Out {
public:
    explicit Out(VendorBuffer& b) : begin_(b.data()), pos_(b.data()), end_(b.data() + b.size()) {}

    Out& text(std::string_view s) {
        const auto n = std::min(s.size(), static_cast<std::size_t>(end_ - pos_));
        std::memcpy(pos_, s.data(), n);
        pos_ += n;
        return *this;
    }
    Out& integer(std::int64_t v) {
        if (auto r = std::to_chars(pos_, end_, v); r.ec == std::errc{}) pos_ = r.ptr;
        return *this;
    }
    Out& fixed(double v, int decimals) {
        if (!std::isfinite(v)) return text("null");
        if (std::fabs(v) < 0.5 * std::pow(10.0, -decimals)) v = 0.0;  // no "-0.000"
        if (auto r = std::to_chars(pos_, end_, v, std::chars_format::fixed, decimals); r.ec == std::errc{}) pos_ = r.ptr;
        return *this;
    }
    // "2026-11-28T10:00:00": Tasmota's Time, here in UTC.
    Out& time(std::int64_t ms) {
        const std::time_t t = static_cast<std::time_t>(ms / 1000);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char buf[24];
        const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
        return text(std::string_view(buf, n));
    }
    std::string_view view() const { return {begin_, static_cast<std::size_t>(pos_ - begin_)}; }

private:
    char* begin_;
    char* pos_;
    char* end_;
};

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && (a < 0)); }

void advance(VendorState& st, std::int64_t ts_ms, double energy_wh) {
    const auto day = floor_div(ts_ms, kDayMs), minute = floor_div(ts_ms, kMinuteMs);
    if (!st.started) {
        st.started = true;
        st.counter_start_ms = ts_ms;
        st.day = day;
        st.day_start_wh = energy_wh;
        st.minute = minute;
        st.minute_start_wh = energy_wh;
        return;
    }
    if (day != st.day) {
        st.yesterday_wh = day == st.day + 1 ? energy_wh - st.day_start_wh : 0.0;
        st.day = day;
        st.day_start_wh = energy_wh;
    }
    if (minute != st.minute) {
        // The minute that just ended; minutes skipped entirely used nothing we can place.
        const double used_mwh = (energy_wh - st.minute_start_wh) * 1000.0;
        for (std::int64_t m = st.minute; m < minute && m < st.minute + 3; ++m) {
            st.by_minute_mwh = {m == st.minute ? used_mwh : 0.0, st.by_minute_mwh[0], st.by_minute_mwh[1]};
        }
        st.minute = minute;
        st.minute_start_wh = energy_wh;
    }
}

}  // namespace

std::optional<Format> format_of(std::string_view option, std::uint64_t device_index) {
    if (option == "native") return Format::native;
    if (option == "tasmota") return Format::tasmota;
    if (option == "shelly") return Format::shelly;
    if (option == "mixed") return static_cast<Format>(device_index % 3);
    return std::nullopt;
}

std::string topic_for(Format format, std::string_view native_prefix, std::string_view device_id, bool meter) {
    const std::string id(device_id);
    switch (format) {
        case Format::tasmota: return "tele/" + id + "/SENSOR";
        case Format::shelly: return id + (meter ? "/events/rpc" : "/status/switch:0");
        case Format::native: break;
    }
    return std::string(native_prefix) + "/" + id + "/reading";
}

std::string_view format_tasmota(VendorBuffer& buffer, std::int64_t ts_ms, const Sample& s, VendorState& st) {
    advance(st, ts_ms, s.energy_wh);
    const double apparent = s.voltage_v * s.current_a;
    const double factor = apparent > 0 ? std::clamp(std::fabs(s.power_w) / apparent, 0.0, 1.0) : 0.0;
    const double reactive = std::sqrt(std::max(0.0, apparent * apparent - s.power_w * s.power_w));
    Out o(buffer);
    o.text(R"({"Time":")").time(ts_ms).text(R"(","ENERGY":{"TotalStartTime":")").time(st.counter_start_ms);
    o.text(R"(","Total":)").fixed(s.energy_wh / 1000.0, 5);
    o.text(R"(,"Yesterday":)").fixed(st.yesterday_wh / 1000.0, 3);
    o.text(R"(,"Today":)").fixed((s.energy_wh - st.day_start_wh) / 1000.0, 3);
    o.text(R"(,"Power":)").fixed(s.power_w, 0);
    o.text(R"(,"ApparentPower":)").fixed(apparent, 0);
    o.text(R"(,"ReactivePower":)").fixed(reactive, 0);
    o.text(R"(,"Factor":)").fixed(factor, 2);
    o.text(R"(,"Voltage":)").fixed(s.voltage_v, 0);
    o.text(R"(,"Current":)").fixed(s.current_a, 3);
    o.text("}}");
    return o.view();
}

std::string_view format_shelly(VendorBuffer& buffer, std::int64_t ts_ms, const Sample& s, VendorState& st) {
    advance(st, ts_ms, s.energy_wh);
    Out o(buffer);
    o.text(R"({"id":0,"source":"timer","output":)").text(s.power_w > 0.5 ? "true" : "false");
    o.text(R"(,"apower":)").fixed(s.power_w, 1);
    o.text(R"(,"voltage":)").fixed(s.voltage_v, 1);
    o.text(R"(,"freq":50.0,"current":)").fixed(s.current_a, 3);
    o.text(R"(,"aenergy":{"total":)").fixed(s.energy_wh, 3);
    o.text(R"(,"by_minute":[)").fixed(st.by_minute_mwh[0], 3).text(",").fixed(st.by_minute_mwh[1], 3).text(",");
    o.fixed(st.by_minute_mwh[2], 3).text(R"(],"minute_ts":)").integer(st.minute * 60);
    o.text(R"(},"temperature":{"tC":41.2,"tF":106.2}})");
    return o.view();
}

namespace {

// "[a,b,c]" of one value per phase.
template <class Value>
Out& per_phase(Out& o, const HouseSample& s, Value value, int decimals) {
    o.text("[");
    for (std::size_t p = 0; p < kPhases; ++p) o.text(p ? "," : "").fixed(value(s.phases[p]), decimals);
    return o.text("]");
}

std::string_view house_native(VendorBuffer& buffer, std::int64_t ts_ms, const HouseSample& s) {
    Out o(buffer);
    o.text(R"({"ts":)").integer(ts_ms).text(R"(,"power_w":)").fixed(s.power_w, 1);
    o.text(R"(,"energy_wh":)").fixed(s.import_wh, 3).text(R"(,"energy_export_wh":)").fixed(s.export_wh, 3);
    o.text(R"(,"current_a":)").fixed(s.current_a, 3).text("}");
    return o.view();
}

// Tasmota on a three-phase meter (an ADE7880 Shelly 3EM): Total is the net register, Today and
// Yesterday follow it (and go negative on a sunny day), ExportActive is per phase.
std::string_view house_tasmota(VendorBuffer& buffer, std::int64_t ts_ms, const HouseSample& s, VendorState& st) {
    advance(st, ts_ms, s.net_wh);
    Out o(buffer);
    o.text(R"({"Time":")").time(ts_ms).text(R"(","ENERGY":{"TotalStartTime":")").time(st.counter_start_ms);
    o.text(R"(","Total":)").fixed(s.net_wh / 1000.0, 5);
    o.text(R"(,"Yesterday":)").fixed(st.yesterday_wh / 1000.0, 5);
    o.text(R"(,"Today":)").fixed((s.net_wh - st.day_start_wh) / 1000.0, 5);
    o.text(R"(,"ExportActive":)");
    per_phase(o, s, [](const PhaseSample& p) { return p.export_wh / 1000.0; }, 5);
    o.text(R"(,"Power":)");
    per_phase(o, s, [](const PhaseSample& p) { return p.power_w; }, 1);
    o.text(R"(,"Voltage":)");
    per_phase(o, s, [](const PhaseSample& p) { return p.voltage_v; }, 1);
    o.text(R"(,"Current":)");
    per_phase(o, s, [](const PhaseSample& p) { return p.current_a; }, 3);
    o.text("}}");
    return o.view();
}

// A Shelly Pro 3EM's NotifyStatus, live values and counters in one frame, dated by the device.
std::string_view house_shelly(VendorBuffer& buffer, std::string_view device_id, std::int64_t ts_ms, const HouseSample& s) {
    constexpr std::array<std::string_view, kPhases> kPrefix = {"a_", "b_", "c_"};
    Out o(buffer);
    o.text(R"({"src":")").text(device_id).text(R"(","dst":")").text(device_id);
    o.text(R"(/events","method":"NotifyStatus","params":{"ts":)").fixed(static_cast<double>(ts_ms) / 1000.0, 3);
    o.text(R"(,"em:0":{"id":0)");
    for (std::size_t p = 0; p < kPhases; ++p) {
        const auto& ph = s.phases[p];
        o.text(",\"").text(kPrefix[p]).text(R"(current":)").fixed(ph.current_a, 3);
        o.text(",\"").text(kPrefix[p]).text(R"(voltage":)").fixed(ph.voltage_v, 1);
        o.text(",\"").text(kPrefix[p]).text(R"(act_power":)").fixed(ph.power_w, 1);
    }
    o.text(R"(,"n_current":null,"total_current":)").fixed(s.current_a, 3);
    o.text(R"(,"total_act_power":)").fixed(s.power_w, 3).text("}");
    o.text(R"(,"emdata:0":{"id":0)");
    for (std::size_t p = 0; p < kPhases; ++p) {
        o.text(",\"").text(kPrefix[p]).text(R"(total_act_energy":)").fixed(s.phases[p].import_wh, 2);
        o.text(",\"").text(kPrefix[p]).text(R"(total_act_ret_energy":)").fixed(s.phases[p].export_wh, 2);
    }
    o.text(R"(,"total_act":)").fixed(s.import_wh, 2).text(R"(,"total_act_ret":)").fixed(s.export_wh, 2).text("}}}");
    return o.view();
}

}  // namespace

std::string_view format_house(Format format, VendorBuffer& buffer, std::string_view device_id, std::int64_t ts_ms,
                              const HouseSample& sample, VendorState& state) {
    switch (format) {
        case Format::tasmota: return house_tasmota(buffer, ts_ms, sample, state);
        case Format::shelly: return house_shelly(buffer, device_id, ts_ms, sample);
        case Format::native: break;
    }
    return house_native(buffer, ts_ms, sample);
}

}  // namespace energyhub::sim
