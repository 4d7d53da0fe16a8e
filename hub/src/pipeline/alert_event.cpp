#include "pipeline/alert_event.hpp"

#include <nlohmann/json.hpp>

#include "domain/ids.hpp"
#include "util/timestamp.hpp"

namespace energyhub {

std::string alert_to_json(const Alert& a) {
    nlohmann::json j = {
        {"id", a.id},
        {"user_id", a.user_id},
        {"device_id", a.device_id},
        {"rule", std::string(rule_name(a.rule))},
        {"state", std::string(alert_state_name(a.state))},
        {"value", a.value},
        {"threshold", a.threshold},
        {"since", format_iso8601(a.since_ms)},
        {"ts", format_iso8601(a.ts_ms)},
        {"message", a.message},
    };
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<Alert> alert_from_json(std::string_view text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    auto str = [&](const char* key) -> std::optional<std::string> {
        auto it = j.find(key);
        if (it == j.end() || !it->is_string()) return std::nullopt;
        return it->get<std::string>();
    };
    auto num = [&](const char* key) -> std::optional<double> {
        auto it = j.find(key);
        if (it == j.end() || !it->is_number()) return std::nullopt;
        return it->get<double>();
    };
    auto id = str("id"), user = str("user_id"), device = str("device_id"), rule = str("rule"), state = str("state"),
         since = str("since"), ts = str("ts"), message = str("message");
    auto value = num("value"), threshold = num("threshold");
    if (!id || !user || !device || !rule || !state || !since || !ts || !value || !threshold) return std::nullopt;
    if (!is_valid_id(*user) || id->size() > 64) return std::nullopt;
    Alert a;
    auto kind = rule_from_name(*rule);
    if (!kind || (*state != "firing" && *state != "resolved")) return std::nullopt;
    a.rule = *kind;
    auto since_ms = parse_iso8601_ms(*since), ts_ms = parse_iso8601_ms(*ts);
    if (!since_ms || !ts_ms) return std::nullopt;
    a.id = *id;
    a.user_id = *user;
    a.device_id = *device;
    a.state = *state == "firing" ? AlertState::firing : AlertState::resolved;
    a.value = *value;
    a.threshold = *threshold;
    a.since_ms = *since_ms;
    a.ts_ms = *ts_ms;
    a.message = message.value_or("");
    return a;
}

}  // namespace energyhub
