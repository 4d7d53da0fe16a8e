#include "insights/facts.hpp"

#include <cstdio>

#include "insights/advice.hpp"
#include "util/timestamp.hpp"

namespace energyhub::insights {

namespace {

nlohmann::json optional_number(const std::optional<double>& v, int decimals) {
    return v ? nlohmann::json(round_to(*v, decimals)) : nlohmann::json();
}

std::string clock_hour(int hour) {
    char text[8];
    std::snprintf(text, sizeof text, "%02d:00", hour % 24);
    return text;
}

nlohmann::json alert_json(const Alert& a) {
    return {{"device_id", a.device_id},
            {"rule", std::string(rule_name(a.rule))},
            {"state", std::string(alert_state_name(a.state))},
            {"value", round_to(a.value, 1)},
            {"threshold", round_to(a.threshold, 1)},
            {"ts", format_iso8601(a.ts_ms)}};
}

}  // namespace

nlohmann::json build_facts(const Aggregates& a, const std::vector<Alert>& alerts, const Tariff& tariff,
                           const Alert* focus) {
    nlohmann::json f;
    f["user_id"] = a.user_id;
    f["timezone"] = a.tz;
    f["yesterday"] = {{"date", a.yesterday}, {"kwh", round_to(a.kwh_yesterday, 3)}};
    f["last_7_days"] = {{"from", a.week_first},
                        {"to", a.yesterday},
                        {"kwh", round_to(a.kwh_week, 3)},
                        {"previous_7_days_kwh", round_to(a.kwh_previous, 3)},
                        {"change_pct", optional_number(a.change_pct, 1)}};
    if (a.has_tariff) {
        f["yesterday"]["cost"] = round_to(a.cost_yesterday, 2);
        f["last_7_days"]["cost"] = round_to(a.cost_week, 2);
        f["last_7_days"]["previous_7_days_cost"] = round_to(a.cost_previous, 2);
        nlohmann::json bands = nlohmann::json::array();
        for (const auto& b : tariff.bands)
            bands.push_back({{"from", clock_hour(b.from_hour)}, {"to", clock_hour(b.to_hour)}, {"per_kwh", b.per_kwh}});
        f["tariff"] = {{"currency", tariff.currency},
                       {"per_kwh", tariff.per_kwh},
                       {"bands", std::move(bands)},
                       {"average_price", round_to(a.average_price, 4)}};
        if (a.peak_band)
            f["tariff"]["most_expensive_band"] = {{"from", clock_hour(a.peak_band->from_hour)},
                                                  {"to", clock_hour(a.peak_band->to_hour)},
                                                  {"kwh_7d", round_to(a.peak_band_kwh_week, 3)}};
    }
    if (a.grid) {
        const auto& g = *a.grid;
        f["grid"] = {{"import_kwh_yesterday", round_to(g.imported.yesterday, 3)},
                     {"export_kwh_yesterday", round_to(g.exported.yesterday, 3)},
                     {"import_kwh_7d", round_to(g.imported.week, 3)},
                     {"export_kwh_7d", round_to(g.exported.week, 3)},
                     {"import_kwh_previous_7d", round_to(g.imported.previous, 3)},
                     {"export_kwh_previous_7d", round_to(g.exported.previous, 3)}};
        if (g.has_pv) {
            f["solar"] = {{"production_kwh_yesterday", round_to(g.produced.yesterday, 3)},
                          {"production_kwh_7d", round_to(g.produced.week, 3)}};
            if (g.self_consumption_pct) {
                f["solar"]["self_consumption_kwh_7d"] = round_to(g.self_consumption_week, 3);
                f["solar"]["self_consumption_pct"] = round_to(*g.self_consumption_pct, 1);
            }
        }
    }
    f["peak_hour"] = a.peak_hour ? nlohmann::json{{"hour", *a.peak_hour}, {"kwh_per_day", round_to(a.peak_hour_kwh_per_day, 3)}}
                                 : nlohmann::json();
    f["base_load"] = a.base_load_w ? nlohmann::json{{"watts", round_to(*a.base_load_w, 1)},
                                                    {"share_pct", optional_number(a.base_load_share_pct, 1)}}
                                   : nlohmann::json();

    nlohmann::json top = nlohmann::json::array();
    for (const auto& d : a.devices)
        if (top.size() < 3 && d.kwh_week > 0) top.push_back(d.device_id);
    f["top_consumers"] = std::move(top);

    nlohmann::json devices = nlohmann::json::array();
    double others_kwh = 0;
    std::size_t others = 0;
    for (const auto& d : a.devices) {
        if (devices.size() == kMaxDevicesInFacts) {
            others_kwh += d.kwh_week;
            ++others;
            continue;
        }
        nlohmann::json j = {{"device_id", d.device_id},
                            {"kwh_yesterday", round_to(d.kwh_yesterday, 3)},
                            {"kwh_7d", round_to(d.kwh_week, 3)},
                            {"kwh_previous_7d", round_to(d.kwh_previous, 3)},
                            {"change_pct", optional_number(d.change_pct, 1)},
                            {"share_pct", round_to(d.share_pct, 1)},
                            {"night_min_w", optional_number(d.night_min_w, 1)}};
        if (!d.name.empty()) j["name"] = d.name;
        if (!d.type.empty()) j["type"] = d.type;
        devices.push_back(std::move(j));
    }
    f["devices"] = std::move(devices);
    if (others) f["other_devices"] = {{"count", others}, {"kwh_7d", round_to(others_kwh, 3)}};

    nlohmann::json list = nlohmann::json::array();
    for (const auto& alert : alerts) {
        if (list.size() == kMaxAlertsInFacts) break;
        list.push_back(alert_json(alert));
    }
    f["alerts"] = std::move(list);
    if (focus) {
        f["focus"] = alert_json(*focus);
        f["focus"]["message"] = truncate_utf8(focus->message, kMaxFieldBytes);
    }
    return f;
}

insights::ChatRequest build_prompt(const nlohmann::json& facts, const Alert* focus) {
    insights::ChatRequest request;
    request.format = advice_schema();
    request.messages.push_back(
        {"system",
         "You are an energy-efficiency advisor for one household. The user gives you facts about the household's "
         "electricity use as JSON: kWh per device for yesterday and for the last 7 days, the change against the 7 "
         "days before, the hour of day with the highest use, the always-on base load (the lowest use at night), "
         "costs when a tariff is known, recent alerts, and where the home has a meter at its grid connection the "
         "energy imported from and exported to the grid (and solar production and the share of it used at home). Reply with JSON only, of this shape: "
         "{\"summary\": string, \"recommendations\": [{\"title\": string, \"action\": string, \"device_id\": "
         "string, \"estimated_saving_kwh_per_month\": number}]}. Write a summary of two or three sentences and "
         "exactly 3 recommendations. Each recommendation must be concrete: name the device or the hours it is "
         "about and what to do, and estimate the saving in kWh per month from the facts. Use only devices and "
         "numbers that appear in the facts."});
    std::string user = "Facts: " + facts.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (focus) {
        char detail[160];
        std::snprintf(detail, sizeof detail, " (%.0f against a threshold of %.0f)", focus->value, focus->threshold);
        user += "\nAn alert just fired: rule " + std::string(rule_name(focus->rule)) + " on device " + focus->device_id +
                detail + ". Make the first recommendation about this device.";
    }
    request.messages.push_back({"user", std::move(user)});
    return request;
}

}  // namespace energyhub::insights
