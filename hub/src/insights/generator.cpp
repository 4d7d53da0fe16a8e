#include "insights/generator.hpp"

#include <stdexcept>

#include <spdlog/spdlog.h>

#include "insights/facts.hpp"
#include "insights/rules.hpp"
#include "util/timestamp.hpp"

namespace energyhub::insights {

nlohmann::json insight_message(const Insight& insight) {
    nlohmann::json j = {
        {"id", insight.id},
        {"user_id", insight.user_id},
        {"created_at", format_iso8601(insight.created_ms)},
        {"trigger", insight.trigger},
        {"source", insight.advice.source},
        {"format", insight.advice.format},
        {"period", {{"start", format_iso8601(insight.period_start_ms)}, {"end", format_iso8601(insight.period_end_ms)}}},
        {"summary", insight.advice.summary},
        {"recommendations", recommendations_json(insight.advice.recommendations)},
        {"facts", insight.facts},
    };
    if (!insight.device_id.empty()) j["device_id"] = insight.device_id;
    if (!insight.alert_id.empty()) j["alert_id"] = insight.alert_id;
    return j;
}

const char* fallback_reason_name(FallbackReason reason) {
    switch (reason) {
        case FallbackReason::unreachable: return "unreachable";
        case FallbackReason::timeout: return "timeout";
        case FallbackReason::model_missing: return "model_missing";
        case FallbackReason::server_error: return "server_error";
        case FallbackReason::bad_answer: return "bad_answer";
    }
    return "unknown";
}

namespace {

FallbackReason reason_of(const insights::ChatResult& r) {
    if (r.status == insights::ChatStatus::timeout) return FallbackReason::timeout;
    if (r.http_status == 404) return FallbackReason::model_missing;  // Ollama: model not found, never pulled
    if (r.http_status >= 500) return FallbackReason::server_error;
    if (r.http_status == 0) return FallbackReason::unreachable;
    return FallbackReason::bad_answer;
}

// source() is "ollama:<model>".
std::string pull_hint(const std::string& source) {
    const auto colon = source.find(':');
    return " (the model is not on the server: ollama pull " +
           source.substr(colon == std::string::npos ? 0 : colon + 1) + ")";
}

}  // namespace

InsightGenerator::InsightGenerator(const InsightsConfig& config, InsightRepository& repository,
                                   insights::ChatClient* model, Publish publish, const Clock& clock)
    : config_(config), repository_(repository), model_(model), publish_(std::move(publish)), clock_(clock) {}

Insight InsightGenerator::generate(const std::string& user_id, const Alert* focus) {
    auto log = spdlog::get("insights");
    const std::int64_t now = clock_.now_ms();
    const UsageData data = repository_.usage(user_id, now);
    if (data.tz.empty()) throw std::runtime_error("unknown user " + user_id);
    const Aggregates aggregates = aggregate(data, config_.tariff);
    const auto alerts = repository_.alerts(user_id, aggregates.period_start_ms, now, kMaxAlertsInFacts);

    Insight insight;
    insight.user_id = user_id;
    insight.period_start_ms = aggregates.period_start_ms;
    insight.period_end_ms = aggregates.period_end_ms;
    insight.facts = build_facts(aggregates, alerts, config_.tariff, focus);
    if (focus) {
        insight.trigger = "alert";
        insight.device_id = focus->device_id;
        insight.alert_id = focus->id;
    }

    bool advised = false;
    const bool wants_model = model_ && aggregates.kwh_week > 0;
    if (wants_model && !model_failed_) {
        const auto result = model_->chat(build_prompt(insight.facts, focus));
        if (result.status == insights::ChatStatus::ok) {
            if (episode_) {
                log->info("{} answers again, after {} insight(s) from the built-in rules", model_->source(),
                          episode_fallbacks_);
                episode_.reset();
            }
            std::string problem;
            if (auto advice = parse_model_answer(result.content, &problem)) {
                insight.advice = std::move(*advice);
                insight.advice.source = model_->source();
                advised = true;
                if (insight.advice.format == "text")
                    log->warn("{} did not answer in the requested JSON for {} ({}{}); keeping its answer as text",
                              model_->source(), user_id, problem, result.truncated ? ", cut off at num_predict" : "");
            }
        } else if (result.status != insights::ChatStatus::stopped) {
            model_failed_ = true;
            run_failure_ = reason_of(result);
            // Once per episode: a model that stays away for days is not news every run.
            const auto level = episode_ ? spdlog::level::debug : spdlog::level::warn;
            log->log(level,
                     "{} gave no advice for {} ({}: {} after {} attempt(s) in {} ms: {}); using the built-in rules{}",
                     model_->source(), user_id, fallback_reason_name(run_failure_), insights::to_string(result.status),
                     result.attempts, result.elapsed_ms, result.error,
                     run_failure_ == FallbackReason::model_missing ? pull_hint(model_->source()) : std::string());
            if (!episode_) episode_fallbacks_ = 0;
            episode_ = run_failure_;
        }
    }
    if (wants_model && !advised && model_failed_) {
        ++fallbacks_[static_cast<std::size_t>(run_failure_)];
        ++episode_fallbacks_;
    }
    if (!advised) insight.advice = rules_advice(aggregates, alerts, focus);
    price_savings(insight.advice, aggregates);

    repository_.store(insight);
    if (!publish(insight))
        log->warn("insight {} for {} is stored but could not be published on {}/{}", insight.id, user_id,
                  config_.topic_prefix, user_id);
    log->info("insight {} for {}{}{} from {} ({})", insight.id, user_id, focus ? " about " : "", focus ? focus->device_id : "",
              insight.advice.source, insight.advice.format);
    return insight;
}

bool InsightGenerator::publish(const Insight& insight) {
    return publish_(config_.topic_prefix + "/" + insight.user_id,
                    insight_message(insight).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::size_t InsightGenerator::republish_latest(const std::atomic<bool>& stop) {
    constexpr std::size_t kPage = 500;  // users per query: memory stays flat with many users
    std::size_t published = 0;
    std::string after;
    for (;;) {
        const auto page = repository_.latest(after, kPage);
        for (const auto& insight : page) {
            if (stop) return published;
            if (publish(insight)) ++published;
        }
        if (page.size() < kPage) return published;
        after = page.back().user_id;
    }
}

}  // namespace energyhub::insights
