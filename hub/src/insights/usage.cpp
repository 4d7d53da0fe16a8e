#include "insights/usage.hpp"

#include <algorithm>
#include <cmath>

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

    std::map<std::string, DeviceAggregate> devices;
    for (const auto& info : data.devices) {
        auto& d = devices[info.device_id];
        d.device_id = info.device_id;
        d.name = info.name;
        d.type = info.type;
    }
    for (const auto& row : data.rows) {
        auto& d = devices[row.device_id];
        d.device_id = row.device_id;
        const double kwh = row.wh / 1000.0;
        const int hour = std::clamp(row.local_hour, 0, 23);
        const double cost = a.has_tariff ? kwh * tariff.price_at_hour(hour) : 0.0;
        switch (row.bucket) {
        case Bucket::previous_week:
            d.kwh_previous += kwh;
            a.cost_previous += cost;
            break;
        case Bucket::yesterday:
            d.kwh_yesterday += kwh;
            a.cost_yesterday += cost;
            [[fallthrough]];
        case Bucket::week:
            d.kwh_week += kwh;
            a.cost_week += cost;
            a.hourly_kwh_week[hour] += kwh;
            break;
        }
    }

    for (auto& [id, d] : devices) {
        d.change_pct = change_percent(d.kwh_previous, d.kwh_week);
        if (auto it = data.night_min_w.find(id); it != data.night_min_w.end()) d.night_min_w = it->second;
        a.kwh_yesterday += d.kwh_yesterday;
        a.kwh_week += d.kwh_week;
        a.kwh_previous += d.kwh_previous;
        a.devices.push_back(d);
    }
    for (auto& d : a.devices) d.share_pct = a.kwh_week > 0 ? d.kwh_week / a.kwh_week * 100.0 : 0.0;
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
    a.base_load_w = data.base_load_w;
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
