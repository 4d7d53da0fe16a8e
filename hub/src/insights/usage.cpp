#include "insights/usage.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "domain/ids.hpp"

namespace energyhub::insights {

std::optional<double> change_percent(double before, double after) {
    if (!(before > 0)) return std::nullopt;
    return (after - before) / before * 100.0;
}

double round_to(double value, int decimals) {
    const double scale = std::pow(10.0, decimals);
    const double r = std::round(value * scale) / scale;
    return r == 0 ? 0.0 : r;  // no "-0"
}

MeterRole meter_role(std::string_view device_type) {
    if (device_type == "grid") return MeterRole::grid;
    if (device_type == "pv") return MeterRole::pv;
    return MeterRole::load;
}

namespace {

// How a row of the rollup counts: as a load (listed), as the grid or solar meter, or not at all
// (a meter's phases, the channels of a device that reports its own totals).
struct Counting {
    std::map<std::string, MeterRole, std::less<>> roles;  // registered device -> role
    std::set<std::string, std::less<>> with_totals;       // devices that report under their own id
    bool has_grid = false;

    explicit Counting(const UsageData& data) {
        for (const auto& d : data.devices) {
            roles[d.device_id] = meter_role(d.type);
            has_grid = has_grid || roles[d.device_id] == MeterRole::grid;
        }
        for (const auto& r : data.rows)
            if (parent_device_id(r.device_id).size() == r.device_id.size()) with_totals.insert(r.device_id);
    }
    std::optional<MeterRole> role_of(std::string_view id) const {
        const auto parent = parent_device_id(id);
        const auto it = roles.find(parent);
        const auto role = it == roles.end() ? MeterRole::load : it->second;
        const bool channel = parent.size() != id.size();
        if (channel && (role != MeterRole::load || with_totals.count(parent))) return std::nullopt;
        return role;
    }
    // The rows that make the household's use: the grid meter's when there is one, else the loads.
    bool household(MeterRole role) const { return role == (has_grid ? MeterRole::grid : MeterRole::load); }
};

}  // namespace

void PeriodKwh::add(Bucket b, double kwh) {
    if (b == Bucket::previous_week) previous += kwh;
    else week += kwh;
    if (b == Bucket::yesterday) yesterday += kwh;
}

Aggregates aggregate(const UsageData& data, const Tariff& tariff) {
    Aggregates a;
    a.user_id = data.user_id;
    a.tz = data.tz;
    a.yesterday = data.yesterday;
    a.week_first = data.week_first;
    a.period_start_ms = data.period_start_ms;
    a.period_end_ms = data.period_end_ms;
    a.has_tariff = tariff.configured();
    a.currency = tariff.currency;

    const Counting counting(data);
    std::map<std::string, DeviceAggregate> devices;
    for (const auto& info : data.devices) {
        if (meter_role(info.type) != MeterRole::load) continue;
        auto& d = devices[info.device_id];
        d.device_id = info.device_id;
        d.name = info.name;
        d.type = info.type;
    }
    GridAggregate g;
    PeriodKwh used, cost;
    double pv_hourly[24] = {}, export_hourly[24] = {};
    for (const auto& row : data.rows) {
        const auto role = counting.role_of(row.device_id);
        if (!role) continue;
        const double kwh = row.wh / 1000.0, export_kwh = row.export_wh / 1000.0;
        const int hour = std::clamp(row.local_hour, 0, 23);
        const bool week = row.bucket != Bucket::previous_week;
        if (*role == MeterRole::load) {
            auto& d = devices[row.device_id];
            d.device_id = row.device_id;
            if (row.bucket == Bucket::previous_week) d.kwh_previous += kwh;
            else d.kwh_week += kwh;
            if (row.bucket == Bucket::yesterday) d.kwh_yesterday += kwh;
        } else if (*role == MeterRole::grid) {
            g.imported.add(row.bucket, kwh);
            g.exported.add(row.bucket, export_kwh);
            if (week) export_hourly[hour] += export_kwh;
        } else {
            g.has_pv = true;
            g.produced.add(row.bucket, kwh + export_kwh);  // whichever way its clamp faces
            if (week) pv_hourly[hour] += kwh + export_kwh;
        }
        if (!counting.household(*role)) continue;
        used.add(row.bucket, kwh);
        if (week) a.hourly_kwh_week[hour] += kwh;
        if (a.has_tariff) cost.add(row.bucket, kwh * tariff.price_at_hour(hour));  // what is paid for
    }

    if (counting.has_grid || g.has_pv || g.exported.week > 0 || g.exported.previous > 0) {
        if (g.has_pv && counting.has_grid) {  // export is known only at the grid connection
            g.self_consumption_week = std::max(0.0, g.produced.week - g.exported.week);
            if (g.produced.week > 0) g.self_consumption_pct = g.self_consumption_week / g.produced.week * 100.0;
            // Own production used at home is use too, at the hours it was produced.
            used.yesterday += std::max(0.0, g.produced.yesterday - g.exported.yesterday);
            used.week += g.self_consumption_week;
            used.previous += std::max(0.0, g.produced.previous - g.exported.previous);
            for (int h = 0; h < 24; ++h) a.hourly_kwh_week[h] += std::max(0.0, pv_hourly[h] - export_hourly[h]);
        }
        a.grid = g;
    }
    a.kwh_yesterday = used.yesterday;
    a.kwh_week = used.week;
    a.kwh_previous = used.previous;
    a.cost_yesterday = cost.yesterday;
    a.cost_week = cost.week;
    a.cost_previous = cost.previous;

    std::map<std::string, double> night_min_w;
    std::map<std::int64_t, double> night_total;
    for (const auto& n : data.night) {
        const auto role = counting.role_of(n.device_id);
        if (!role) continue;
        if (*role == MeterRole::load) {
            auto [it, fresh] = night_min_w.try_emplace(n.device_id, n.wh);
            if (!fresh) it->second = std::min(it->second, n.wh);
        }
        if (counting.household(*role)) night_total[n.hour_ms] += n.wh;
    }
    for (const auto& [hour, wh] : night_total)
        if (!a.base_load_w || wh < *a.base_load_w) a.base_load_w = wh;

    for (auto& [id, d] : devices) {
        d.change_pct = change_percent(d.kwh_previous, d.kwh_week);
        if (auto it = night_min_w.find(id); it != night_min_w.end()) d.night_min_w = it->second;
        d.share_pct = a.kwh_week > 0 ? d.kwh_week / a.kwh_week * 100.0 : 0.0;
        a.devices.push_back(d);
    }
    std::stable_sort(a.devices.begin(), a.devices.end(),
                     [](const DeviceAggregate& x, const DeviceAggregate& y) { return x.kwh_week > y.kwh_week; });
    a.change_pct = change_percent(a.kwh_previous, a.kwh_week);

    if (a.kwh_week > 0) {
        int peak = 0;
        for (int h = 1; h < 24; ++h)
            if (a.hourly_kwh_week[h] > a.hourly_kwh_week[peak]) peak = h;
        a.peak_hour = peak;
        a.peak_hour_kwh_per_day = a.hourly_kwh_week[peak] / 7.0;
    }
    if (a.base_load_w && a.kwh_week > 0)
        a.base_load_share_pct = std::min(100.0, *a.base_load_w * 24 * 7 / 1000.0 / a.kwh_week * 100.0);

    a.average_price = a.kwh_week > 0 && a.has_tariff ? a.cost_week / a.kwh_week : tariff.per_kwh;
    for (const auto& band : tariff.bands)
        if (!a.peak_band || band.per_kwh > a.peak_band->per_kwh) a.peak_band = band;
    if (a.peak_band)
        for (int h = a.peak_band->from_hour; h != a.peak_band->to_hour; h = (h + 1) % 24) a.peak_band_kwh_week += a.hourly_kwh_week[h];
    return a;
}

}  // namespace energyhub::insights
