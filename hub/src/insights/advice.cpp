#include "insights/advice.hpp"

#include <cmath>
#include <cstdlib>

#include "domain/ids.hpp"
#include "insights/think.hpp"
#include "insights/usage.hpp"

namespace energyhub::insights {

namespace {

std::string clean_field(const nlohmann::json& value, std::size_t max_bytes) {
    if (!value.is_string()) return {};
    std::string s = value.get<std::string>();
    // One line per field: control characters become spaces.
    for (char& c : s)
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    auto first = s.find_first_not_of(' ');
    auto last = s.find_last_not_of(' ');
    if (first == std::string::npos) return {};
    return truncate_utf8(s.substr(first, last - first + 1), max_bytes);
}

// A saving given as a number, or as text starting with one ("12 kWh", "about 3.5").
std::optional<double> saving_of(const nlohmann::json& value) {
    double v = 0;
    if (value.is_number()) {
        v = value.get<double>();
    } else if (value.is_string()) {
        const std::string s = value.get<std::string>();
        std::size_t i = s.find_first_of("0123456789");
        if (i == std::string::npos) return std::nullopt;
        v = std::strtod(s.c_str() + i, nullptr);
    } else {
        return std::nullopt;
    }
    if (!std::isfinite(v) || v < 0 || v > 1e6) return std::nullopt;
    return round_to(v, 2);
}

// One recommendation in the shape recommendations_json() writes and the model is asked for; the
// cost is left out (the model's figure is not trusted: price_savings() computes it).
std::optional<Recommendation> recommendation_of(const nlohmann::json& item) {
    if (!item.is_object()) return std::nullopt;
    Recommendation r;
    r.title = clean_field(item.value("title", nlohmann::json()), kMaxFieldBytes);
    r.action = clean_field(item.value("action", nlohmann::json()), kMaxFieldBytes);
    const std::string device = clean_field(item.value("device_id", nlohmann::json()), kMaxFieldBytes);
    if (is_valid_id(device)) r.device_id = device;
    auto saving = saving_of(item.value("estimated_saving_kwh_per_month", nlohmann::json()));
    if (r.title.empty() || r.action.empty() || !saving) return std::nullopt;
    r.saving_kwh_per_month = *saving;
    return r;
}

}  // namespace

std::string truncate_utf8(std::string text, std::size_t max_bytes) {
    if (text.size() <= max_bytes) return text;
    std::size_t cut = max_bytes;
    // Back up over continuation bytes (10xxxxxx) to the start of the cut sequence.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text.resize(cut);
    return text;
}

const nlohmann::json& advice_schema() {
    static const nlohmann::json schema = {
        {"type", "object"},
        {"properties",
         {{"summary", {{"type", "string"}}},
          {"recommendations",
           {{"type", "array"},
            {"minItems", 3},
            {"maxItems", 3},
            {"items",
             {{"type", "object"},
              {"properties",
               {{"title", {{"type", "string"}}},
                {"action", {{"type", "string"}}},
                {"device_id", {{"type", "string"}}},
                {"estimated_saving_kwh_per_month", {{"type", "number"}}}}},
              {"required", {"title", "action", "estimated_saving_kwh_per_month"}}}}}}}},
        {"required", {"summary", "recommendations"}},
    };
    return schema;
}

std::optional<Advice> parse_model_answer(const std::string& content, std::string* problem) {
    const std::string text = insights::strip_code_fence(content);
    if (text.empty()) return std::nullopt;
    auto set_problem = [&](const char* why) {
        if (problem) *problem = why;
    };
    Advice advice;
    advice.format = "json";
    const auto doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        set_problem(doc.is_discarded() ? "the answer is not JSON" : "the answer is not a JSON object");
    } else {
        advice.summary = clean_field(doc.value("summary", nlohmann::json()), kMaxSummaryBytes);
        const auto recs = doc.find("recommendations");
        if (recs != doc.end() && recs->is_array()) {
            for (const auto& item : *recs) {
                auto r = recommendation_of(item);
                if (!r) continue;
                advice.recommendations.push_back(std::move(*r));
                if (advice.recommendations.size() == kMaxRecommendations) break;
            }
        }
        if (advice.summary.empty()) set_problem("the answer has no summary");
        else if (advice.recommendations.empty()) set_problem("the answer has no valid recommendation");
        else return advice;
    }
    // The model did not follow the format: keep what it said, as text.
    Advice fallback;
    fallback.format = "text";
    fallback.summary = truncate_utf8(text, kMaxTextAnswerBytes);
    return fallback;
}

nlohmann::json recommendations_json(const std::vector<Recommendation>& recommendations) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : recommendations) {
        nlohmann::json j = {{"title", r.title},
                            {"action", r.action},
                            {"estimated_saving_kwh_per_month", round_to(r.saving_kwh_per_month, 2)}};
        if (!r.device_id.empty()) j["device_id"] = r.device_id;
        if (r.saving_cost_per_month) j["estimated_saving_cost_per_month"] = round_to(*r.saving_cost_per_month, 2);
        out.push_back(std::move(j));
    }
    return out;
}

std::vector<Recommendation> recommendations_from_json(const nlohmann::json& stored) {
    std::vector<Recommendation> out;
    if (!stored.is_array()) return out;
    for (const auto& item : stored) {
        auto r = recommendation_of(item);
        if (!r) continue;
        if (auto cost = item.find("estimated_saving_cost_per_month"); cost != item.end() && cost->is_number())
            r->saving_cost_per_month = cost->get<double>();
        out.push_back(std::move(*r));
    }
    return out;
}

}  // namespace energyhub::insights
