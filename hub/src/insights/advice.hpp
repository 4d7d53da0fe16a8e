#pragma once
// Advice: a summary and concrete recommendations, each with an estimated saving. It comes from
// the model (validated against the schema the prompt asks for, or kept as text when the model
// ignored it) or from the built-in rules.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace energyhub::insights {

// Bounds on what is stored and published, whatever the model sends.
constexpr std::size_t kMaxSummaryBytes = 2000;
constexpr std::size_t kMaxTextAnswerBytes = 4000;
constexpr std::size_t kMaxFieldBytes = 500;
constexpr std::size_t kMaxRecommendations = 3;

struct Recommendation {
    std::string title;
    std::string action;
    std::string device_id;  // empty when it is about the household
    double saving_kwh_per_month = 0;
    std::optional<double> saving_cost_per_month;  // with a tariff: kWh × average price
};

struct Advice {
    std::string source;  // "rules" or "ollama:<model>"
    std::string format;  // "json" (validated structure), "text" (model ignored the format), "rules"
    std::string summary;
    std::vector<Recommendation> recommendations;
};

// The JSON schema sent as Ollama's `format`.
const nlohmann::json& advice_schema();

// Reads the model's answer (reasoning already removed). A JSON object with a summary and at least
// one valid recommendation becomes "json" advice; anything else that has text becomes "text"
// advice holding that text. nullopt only for an empty answer. `problem` says why JSON was not
// accepted, for the log.
std::optional<Advice> parse_model_answer(const std::string& content, std::string* problem = nullptr);

// Cuts `text` to at most `max_bytes` without splitting a UTF-8 sequence.
std::string truncate_utf8(std::string text, std::size_t max_bytes);

nlohmann::json recommendations_json(const std::vector<Recommendation>& recommendations);
// The inverse, for recommendations as stored: what recommendations_json() wrote comes back whole.
std::vector<Recommendation> recommendations_from_json(const nlohmann::json& stored);

}  // namespace energyhub::insights
