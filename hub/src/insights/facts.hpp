#pragma once
// The facts of an insight (compact JSON: what the model is given and what is stored with the
// insight) and the chat request that asks the model for advice on them.
#include <vector>

#include <nlohmann/json.hpp>

#include "config/insights_config.hpp"
#include "domain/alert.hpp"
#include "insights/chat_port.hpp"
#include "insights/usage.hpp"

namespace energyhub::insights {

// Alerts of the period given to the model, newest first.
constexpr std::size_t kMaxAlertsInFacts = 20;

// `focus` is the alert that triggered an on-demand insight, or null for a scheduled one.
nlohmann::json build_facts(const Aggregates& a, const std::vector<Alert>& alerts, const Tariff& tariff,
                           const Alert* focus);

insights::ChatRequest build_prompt(const nlohmann::json& facts, const Alert* focus);

}  // namespace energyhub::insights
