#include "insights/rules.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>

namespace energyhub::insights {

namespace {

constexpr double kDaysPerMonth = 30.0;

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
    char buffer[1024];
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(buffer, sizeof buffer, fmt, args);
    va_end(args);
    return buffer;
}

std::string display(const DeviceAggregate& d) { return d.name.empty() ? d.device_id : d.name + " (" + d.device_id + ")"; }

const DeviceAggregate* find_device(const Aggregates& a, const std::string& id) {
    for (const auto& d : a.devices)
        if (d.device_id == id) return &d;
    return nullptr;
}

struct Candidate {
    Recommendation rec;
    double score;  // kWh per month, or its equivalent for a saving in money only
};

std::string cost_text(const Aggregates& a, double amount) { return format("%.2f %s", amount, a.currency.c_str()); }

}  // namespace

Advice rules_advice(const Aggregates& a, const std::vector<Alert>& alerts, const Alert* focus) {
    Advice advice;
    advice.source = "rules";
    advice.format = "rules";

    if (a.kwh_week <= 0) {
        advice.summary = format("No electricity use was recorded for your devices between %s and %s.",
                                a.week_first.c_str(), a.yesterday.c_str());
        advice.recommendations.push_back(
            {"Check that your devices report",
             "None of your devices reported usage in the last 7 days. Check that they are powered, online and "
             "registered to you, so that the next insight can give advice.",
             "", 0, std::nullopt});
        return advice;
    }

    // Summary: the headline numbers.
    advice.summary = format("Yesterday (%s) you used %.1f kWh", a.yesterday.c_str(), a.kwh_yesterday);
    if (a.has_tariff) advice.summary += " (" + cost_text(a, a.cost_yesterday) + ")";
    advice.summary += format(". Over the last 7 days you used %.1f kWh", a.kwh_week);
    if (a.change_pct) advice.summary += format(", %+.0f%% against the 7 days before", *a.change_pct);
    advice.summary += ".";
    if (a.peak_hour) advice.summary += format(" Your use peaks around %02d:00.", *a.peak_hour);
    if (a.base_load_w && a.base_load_share_pct)
        advice.summary += format(" Your always-on base load is %.0f W, %.0f%% of your use.", *a.base_load_w, *a.base_load_share_pct);
    if (a.grid && (a.grid->imported.week > 0 || a.grid->exported.week > 0))
        advice.summary += format(" Over the 7 days you took %.1f kWh from the grid and returned %.1f kWh to it.",
                                 a.grid->imported.week, a.grid->exported.week);
    if (a.grid && a.grid->self_consumption_pct)
        advice.summary += format(" You used %.0f%% of the %.1f kWh your solar panels produced at home.",
                                 *a.grid->self_consumption_pct, a.grid->produced.week);

    std::vector<Candidate> candidates;
    const double weeks_per_month = kDaysPerMonth / 7.0;

    // A device whose use rose most against the week before.
    const DeviceAggregate* rising = nullptr;
    for (const auto& d : a.devices) {
        const double rise = d.kwh_week - d.kwh_previous;
        if (rise >= 0.5 && d.change_pct && *d.change_pct >= 10 && (!rising || rise > rising->kwh_week - rising->kwh_previous))
            rising = &d;
    }
    if (rising) {
        const double saving = (rising->kwh_week - rising->kwh_previous) * weeks_per_month;
        candidates.push_back(
            {{format("Find out why %s uses %.0f%% more", display(*rising).c_str(), *rising->change_pct),
              format("%s used %.1f kWh in the last 7 days against %.1f kWh the week before. Check its settings, "
                     "schedule and whether it is left on; getting back to last week's level saves about %.0f kWh a month.",
                     display(*rising).c_str(), rising->kwh_week, rising->kwh_previous, saving),
              rising->device_id, saving, std::nullopt},
             saving});
    }

    // The always-on base load.
    if (a.base_load_w && *a.base_load_w >= 10) {
        std::vector<const DeviceAggregate*> always_on;
        for (const auto& d : a.devices)
            if (d.night_min_w && *d.night_min_w >= 5) always_on.push_back(&d);
        std::sort(always_on.begin(), always_on.end(),
                  [](const DeviceAggregate* x, const DeviceAggregate* y) { return *x->night_min_w > *y->night_min_w; });
        std::string which;
        for (std::size_t i = 0; i < always_on.size() && i < 2; ++i)
            which += format("%s%s (%.0f W)", i ? ", " : " The largest always-on loads are ", display(*always_on[i]).c_str(),
                            *always_on[i]->night_min_w);
        if (!which.empty()) which += ".";
        const double saving = *a.base_load_w * 0.25 * 24 * kDaysPerMonth / 1000.0;
        candidates.push_back(
            {{format("Cut the always-on base load of %.0f W", *a.base_load_w),
              format("Your use never drops below %.0f W at night%s.%s Switch standby devices off overnight with a "
                     "timer or smart plug; cutting a quarter of the base load saves about %.0f kWh a month.",
                     *a.base_load_w,
                     a.base_load_share_pct ? format(", %.0f%% of all your use", *a.base_load_share_pct).c_str() : "",
                     which.c_str(), saving),
              always_on.empty() ? std::string() : always_on.front()->device_id, saving, std::nullopt},
             saving});
    }

    // Shifting use out of the most expensive hours, or spreading the peak.
    if (a.peak_band && a.peak_band_kwh_week > 0 && a.peak_band->per_kwh > a.average_price) {
        const double shifted_kwh = 0.2 * a.peak_band_kwh_week * weeks_per_month;
        const double money = shifted_kwh * (a.peak_band->per_kwh - a.average_price);
        Recommendation r{format("Shift flexible use out of %02d:00-%02d:00", a.peak_band->from_hour, a.peak_band->to_hour),
                         format("%.1f kWh a week fall in your most expensive hours, %02d:00-%02d:00 at %.2f %s/kWh. Run "
                                "the dishwasher, washing machine and charging outside them; moving a fifth of that use "
                                "saves about %s a month.",
                                a.peak_band_kwh_week, a.peak_band->from_hour, a.peak_band->to_hour, a.peak_band->per_kwh,
                                a.currency.c_str(), cost_text(a, money).c_str()),
                         "", 0, money};
        candidates.push_back({r, a.average_price > 0 ? money / a.average_price : 0});
    } else if (a.peak_hour) {
        candidates.push_back(
            {{format("Spread the use around %02d:00", *a.peak_hour),
              format("Your use peaks at %02d:00 with %.1f kWh on an average day. Starting large appliances one after "
                     "another, or at night, lowers the peak your supply must carry.",
                     *a.peak_hour, a.peak_hour_kwh_per_day),
              "", 0, std::nullopt},
             0.01});
    }

    // Exported energy that flexible use could take instead: what the grid pays for it is usually
    // far less than what it charges.
    if (a.grid && a.grid->exported.week >= 1.0) {
        const double shifted = 0.25 * a.grid->exported.week * weeks_per_month;
        candidates.push_back(
            {{"Use more of your own solar power",
              format("You returned %.1f kWh to the grid in the last 7 days. Run the dishwasher, washing machine, "
                     "water heating or car charging in the sunny hours instead of the evening; using a quarter of "
                     "that at home saves buying about %.0f kWh a month.",
                     a.grid->exported.week, shifted),
              "", shifted, std::nullopt},
             shifted});
    }

    // The largest consumer, if not already named above.
    for (const auto& d : a.devices) {
        if (rising && d.device_id == rising->device_id) continue;
        if (d.kwh_week <= 0) break;
        const double saving = 0.1 * d.kwh_week * weeks_per_month;
        candidates.push_back(
            {{format("Use %s more efficiently", display(d).c_str()),
              format("%s is your largest consumer with %.1f kWh in the last 7 days (%.0f%% of your use). An eco mode, "
                     "a lower temperature or shorter runs that save a tenth of it save about %.0f kWh a month.",
                     display(d).c_str(), d.kwh_week, d.share_pct, saving),
              d.device_id, saving, std::nullopt},
             saving});
        break;
    }

    // Devices that set off power alerts in the period.
    for (const auto& alert : alerts) {
        if (alert.state != AlertState::firing || (alert.rule != RuleKind::power_above && alert.rule != RuleKind::spike)) continue;
        if (focus && alert.device_id == focus->device_id) continue;
        const DeviceAggregate* d = find_device(a, alert.device_id);
        if (!d) continue;
        const double saving = 0.05 * d->kwh_week * weeks_per_month;
        candidates.push_back(
            {{format("Check %s after its power alert", display(*d).c_str()),
              format("%s drew %.0f W against a threshold of %.0f W. Check whether it is faulty or runs longer than "
                     "needed; trimming its use by 5%% saves about %.1f kWh a month.",
                     display(*d).c_str(), alert.value, alert.threshold, saving),
              d->device_id, saving, std::nullopt},
             saving});
        break;
    }

    std::stable_sort(candidates.begin(), candidates.end(), [](const Candidate& x, const Candidate& y) { return x.score > y.score; });

    if (focus) {
        const DeviceAggregate* d = find_device(a, focus->device_id);
        const double week = d ? d->kwh_week : 0;
        const double saving = 0.1 * week * weeks_per_month;
        const std::string name = d ? display(*d) : focus->device_id;
        advice.recommendations.push_back(
            {format("Check %s now", name.c_str()),
             format("%s just set off a %s alert: %.0f W against a threshold of %.0f W. Make sure it is not faulty or "
                    "left running, and run it outside your peak hours; a tenth less use saves about %.1f kWh a month.",
                    name.c_str(), std::string(rule_name(focus->rule)).c_str(), focus->value, focus->threshold, saving),
             focus->device_id, saving, std::nullopt});
    }
    // Best savings first, each device once while others are left, then the rest.
    std::vector<bool> taken(candidates.size(), false);
    for (int pass = 0; pass < 2; ++pass) {
        for (std::size_t i = 0; i < candidates.size(); ++i) {
            if (advice.recommendations.size() == kMaxRecommendations) break;
            const auto& rec = candidates[i].rec;
            if (taken[i] || (focus && rec.device_id == focus->device_id)) continue;
            const bool repeat = !rec.device_id.empty() &&
                                std::any_of(advice.recommendations.begin(), advice.recommendations.end(),
                                            [&](const Recommendation& r) { return r.device_id == rec.device_id; });
            if (repeat && pass == 0) continue;
            taken[i] = true;
            advice.recommendations.push_back(rec);
        }
    }
    for (auto& r : advice.recommendations) r.saving_kwh_per_month = round_to(r.saving_kwh_per_month, 2);
    return advice;
}

void price_savings(Advice& advice, const Aggregates& a) {
    if (!a.has_tariff) return;
    for (auto& r : advice.recommendations)
        if (!r.saving_cost_per_month) r.saving_cost_per_month = round_to(r.saving_kwh_per_month * a.average_price, 2);
}

}  // namespace energyhub::insights
