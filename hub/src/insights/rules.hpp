#pragma once
// The built-in advice: deterministic recommendations computed from the same aggregates the model
// would see. Used when no model is configured or reachable, so every user always gets an insight.
#include <vector>

#include "domain/alert.hpp"
#include "insights/advice.hpp"
#include "insights/usage.hpp"

namespace energyhub::insights {

// Up to 3 recommendations ordered by estimated saving (the focus device's first); source "rules".
Advice rules_advice(const Aggregates& a, const std::vector<Alert>& alerts, const Alert* focus);

// With a tariff, adds each recommendation's saving in money (kWh × the user's average price),
// computed here rather than trusted to the model's arithmetic.
void price_savings(Advice& advice, const Aggregates& a);

}  // namespace energyhub::insights
