#include "insights/scheduler.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include <spdlog/spdlog.h>

#include "pipeline/alert_event.hpp"
#include "util/timestamp.hpp"

namespace energyhub::insights {

namespace {

constexpr std::int64_t kRetryMinMs = 1'000;
constexpr std::int64_t kRetryMaxMs = 60'000;

std::shared_ptr<spdlog::logger> scheduler_log() { return spdlog::get("insights"); }

std::string when(std::int64_t seconds) { return format_iso8601(seconds * 1000); }

}  // namespace

InsightScheduler::InsightScheduler(const InsightsConfig& config, InsightRepository& repository,
                                   InsightGenerator& generator, const UtcOffsets& zone, const Clock& clock,
                                   std::function<void()> on_storage_error)
    : config_(config),
      repository_(repository),
      generator_(generator),
      zone_(zone),
      clock_(clock),
      on_storage_error_(std::move(on_storage_error)),
      schedule_(CronSchedule::parse(config.schedule)),
      heartbeat_ms_(clock.steady_ms()) {}

CycleResult InsightScheduler::run_cycle(const std::string& only_user, const std::atomic<bool>& stop) {
    CycleResult result;
    const auto started = clock_.steady_ms();
    const auto users = repository_.users(only_user);
    if (!only_user.empty() && users.empty()) {
        result.unknown_user = true;
        return result;
    }
    generator_.retry_model();
    for (const auto& user : users) {
        heartbeat_ms_ = clock_.steady_ms();
        if (stop) {
            scheduler_log()->warn("stopping: {} of {} users got no insight in this run",
                                  users.size() - static_cast<std::size_t>(result.users), users.size());
            break;
        }
        ++result.users;
        try {
            const Insight insight = generator_.generate(user, nullptr);
            if (insight.advice.source == "rules")
                ++result.from_rules;
            else
                ++result.from_model;
        } catch (const std::exception& e) {
            ++result.failed;
            scheduler_log()->error("no insight for {}: {}", user, e.what());
            if (on_storage_error_) on_storage_error_();
        }
    }
    repository_.prune(clock_.now_ms());
    scheduler_log()->info("insight run done: {} users, {} from the model, {} from the rules, {} failed, in {} ms",
                          result.users, result.from_model, result.from_rules, result.failed,
                          clock_.steady_ms() - started);
    return result;
}

void InsightScheduler::offer_alert(std::string_view topic, std::string_view payload) noexcept {
    try {
        std::lock_guard lock(mutex_);
        if (alerts_.size() >= kMaxQueuedAlerts) {
            if (dropped_alerts_++ % 100 == 0)
                scheduler_log()->warn(
                    "alert queue full: dropped {} alert(s); they stay in the alerts table but make no on-demand "
                    "insight",
                    dropped_alerts_);
            return;
        }
        alerts_.emplace_back(std::string(topic), std::string(payload));
    } catch (...) {
        return;  // out of memory: the alert is lost to this daemon only
    }
    wakeup_.notify_one();
}

bool InsightScheduler::pop_alert(std::pair<std::string, std::string>& out) {
    std::lock_guard lock(mutex_);
    if (alerts_.empty()) return false;
    out = std::move(alerts_.front());
    alerts_.pop_front();
    return true;
}

void InsightScheduler::push_front(std::pair<std::string, std::string> item) {
    std::lock_guard lock(mutex_);
    alerts_.push_front(std::move(item));
}

void InsightScheduler::republish() {
    republish_ = true;
    wake();
}

void InsightScheduler::wake() {
    std::lock_guard lock(mutex_);
    wakeup_.notify_all();
}

bool InsightScheduler::handle_alert(const std::string& topic, const std::string& payload) {
    const auto alert = alert_from_json(payload);
    if (!alert) {
        scheduler_log()->warn("ignoring a malformed alert event on {}", topic);
        return false;
    }
    // The topic is alerts/<user_id>/<device_id>, as the broker's ACL sees it; the payload must agree.
    const std::string expected_tail = "/" + alert->user_id + "/" + alert->device_id;
    if (topic.size() < expected_tail.size() ||
        topic.compare(topic.size() - expected_tail.size(), expected_tail.size(), expected_tail) != 0) {
        scheduler_log()->warn("ignoring alert {}: its user and device do not match the topic {}", alert->id, topic);
        return false;
    }
    if (alert->state != AlertState::firing || (alert->rule != RuleKind::power_above && alert->rule != RuleKind::spike))
        return false;
    if (config_.on_demand_per_device_per_day == 0) return false;
    const std::int64_t now = clock_.now_ms();
    if (now - alert->ts_ms > config_.on_demand_max_age.count()) {
        scheduler_log()->info("alert {} on {} is from {}, older than on_demand_max_age: no on-demand insight",
                              alert->id, alert->device_id, format_iso8601(alert->ts_ms));
        return false;
    }
    if (!repository_.claim_on_demand(*alert, config_.on_demand_per_device_per_day, now)) {
        scheduler_log()->info("alert {} on {}: the device already had its on-demand insight(s) today", alert->id,
                              alert->device_id);
        return false;
    }
    scheduler_log()->info("{} alert on {} of {}: making an on-demand insight", rule_name(alert->rule), alert->device_id,
                          alert->user_id);
    generator_.retry_model();
    generator_.generate(alert->user_id, &*alert);
    return true;
}

void InsightScheduler::run(const std::atomic<bool>& stop) {
    constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max() / 2000;
    bool loaded = false;         // the schedule's state has been read from the repository
    std::int64_t last = 0;       // the last slot run (Unix seconds)
    std::int64_t next = kNever;  // the next slot
    std::int64_t retry_at = 0;
    std::int64_t retry_delay = kRetryMinMs;
    scheduler_log()->info("insight schedule '{}' in {}", schedule_.text(), config_.timezone);

    while (!stop) {
        heartbeat_ms_ = clock_.steady_ms();
        std::int64_t now = clock_.now_ms();
        if (now >= retry_at) {
            std::pair<std::string, std::string> item;
            bool holding = false;
            bool republishing = false;
            try {
                if (republish_.exchange(false)) {
                    republishing = true;
                    const auto n = generator_.republish_latest(stop);
                    republishing = false;
                    scheduler_log()->info("published the newest insight of {} user(s) again", n);
                }
                if (!loaded) {
                    if (auto stored = repository_.last_slot(kScheduleName)) {
                        last = *stored;
                    } else {
                        // First start: the schedule begins now; nothing before it was missed.
                        last = now / 1000;
                        repository_.init_slot(kScheduleName, last);
                    }
                    loaded = true;
                    next = schedule_.next_after(last, zone_).value_or(kNever);
                    if (next <= now / 1000)
                        scheduler_log()->info("insight runs were missed since {} (the first at {}): running once now",
                                              when(last), when(next));
                    else if (next != kNever)
                        scheduler_log()->info("next insight run at {}", when(next));
                }
                while (!stop && pop_alert(item)) {
                    heartbeat_ms_ = clock_.steady_ms();
                    holding = true;
                    handle_alert(item.first, item.second);
                    holding = false;
                }
                now = clock_.now_ms();
                if (!stop && now / 1000 >= next) {
                    // Several slots may have passed (the hub was off, or a run took long): run once.
                    const std::int64_t slot = schedule_.latest_in(last, now / 1000, zone_).value_or(next);
                    if (repository_.claim_slot(kScheduleName, slot))
                        run_cycle("", stop);
                    else
                        scheduler_log()->info("the run of {} was made by another scheduler", when(slot));
                    last = slot;
                    next = schedule_.next_after(slot, zone_).value_or(kNever);
                    if (next != kNever) scheduler_log()->info("next insight run at {}", when(next));
                }
                retry_delay = kRetryMinMs;
            } catch (const std::exception& e) {
                if (holding) push_front(std::move(item));
                if (republishing) republish_ = true;
                scheduler_log()->error("insight scheduler: {}; retrying in {} ms", e.what(), retry_delay);
                if (on_storage_error_) on_storage_error_();
                retry_at = clock_.now_ms() + retry_delay;
                retry_delay = std::min(retry_delay * 2, kRetryMaxMs);
            }
        }
        now = clock_.now_ms();
        std::int64_t wait_ms = std::min(kSchedulerMaxWaitMs, next * 1000 - now);
        if (now < retry_at) wait_ms = std::min(wait_ms, retry_at - now);
        wait_ms = std::max<std::int64_t>(wait_ms, 10);
        std::unique_lock lock(mutex_);
        wakeup_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] {
            return stop.load() || ((!alerts_.empty() || republish_.load()) && clock_.now_ms() >= retry_at);
        });
    }
}

}  // namespace energyhub::insights
