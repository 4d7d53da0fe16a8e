#pragma once
// Makes one insight: aggregates from the repository, advice from the model or else from the
// rules, then stores it and publishes it retained on <topic_prefix>/<user_id>.
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "config/insights_config.hpp"
#include "insights/chat_port.hpp"
#include "insights/repository.hpp"
#include "util/clock.hpp"

namespace energyhub::insights {

// Publishes a retained message; false if the client refused it.
using Publish = std::function<bool(const std::string& topic, const std::string& payload)>;

// Why an insight came from the rules although a model is configured.
enum class FallbackReason { unreachable, timeout, model_missing, server_error, bad_answer };
inline constexpr std::size_t kFallbackReasonCount = 5;
const char* fallback_reason_name(FallbackReason reason);

class InsightGenerator {
public:
    // `model` may be null: every insight then comes from the rules.
    InsightGenerator(const InsightsConfig& config, InsightRepository& repository, insights::ChatClient* model,
                     Publish publish, const Clock& clock);

    // `focus` is the alert behind an on-demand insight, or null. Model trouble of any kind ends
    // in rule-based advice; storage errors throw.
    Insight generate(const std::string& user_id, const Alert* focus);

    // Publishes each user's newest stored insight again (the broker may have lost what it
    // retained); returns how many went out. Stops early when `stop` is set; storage errors throw.
    std::size_t republish_latest(const std::atomic<bool>& stop);

    // After the model failed once, the rest of a run skips it: one unreachable server costs one
    // timeout per run, not one per user. Each run (and each on-demand insight) starts afresh.
    void retry_model() { model_failed_ = false; }
    bool model_failed() const { return model_failed_; }

    // Insights the rules made because the model failed, by reason (any thread).
    std::uint64_t fallbacks(FallbackReason reason) const {
        return fallbacks_[static_cast<std::size_t>(reason)].load(std::memory_order_relaxed);
    }

private:
    bool publish(const Insight& insight);

    const InsightsConfig& config_;
    InsightRepository& repository_;
    insights::ChatClient* model_;
    Publish publish_;
    const Clock& clock_;
    bool model_failed_ = false;
    FallbackReason run_failure_ = FallbackReason::unreachable;  // why, in this run
    // From the first failure until the model answers again: logged once, at its start and end.
    std::optional<FallbackReason> episode_;
    std::uint64_t episode_fallbacks_ = 0;
    std::array<std::atomic<std::uint64_t>, kFallbackReasonCount> fallbacks_{};
};

}  // namespace energyhub::insights
