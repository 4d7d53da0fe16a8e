#pragma once
// Makes one insight: aggregates from the repository, advice from the model or else from the
// rules, then stores it and publishes it retained on <topic_prefix>/<user_id>.
#include <functional>
#include <string>

#include "config/insights_config.hpp"
#include "insights/repository.hpp"
#include "ollama/chat.hpp"
#include "util/clock.hpp"

namespace energyhub::insights {

// Publishes a retained message; false if the client refused it.
using Publish = std::function<bool(const std::string& topic, const std::string& payload)>;

class InsightGenerator {
public:
    // `model` may be null: every insight then comes from the rules.
    InsightGenerator(const InsightsConfig& config, InsightRepository& repository, ollama::ChatClient* model,
                     Publish publish, const Clock& clock);

    // `focus` is the alert behind an on-demand insight, or null. Model trouble of any kind ends
    // in rule-based advice; storage errors throw.
    Insight generate(const std::string& user_id, const Alert* focus);

    // After the model failed once, the rest of a run skips it: one unreachable server costs one
    // timeout per run, not one per user. Each run (and each on-demand insight) starts afresh.
    void retry_model() { model_failed_ = false; }
    bool model_failed() const { return model_failed_; }

private:
    const InsightsConfig& config_;
    InsightRepository& repository_;
    ollama::ChatClient* model_;
    Publish publish_;
    const Clock& clock_;
    bool model_failed_ = false;
};

}  // namespace energyhub::insights
