#pragma once
// The insight scheduler: runs the cron schedule over all users, makes up a run missed while no
// scheduler was running (once, not once per missed slot), and turns fresh power alerts into
// on-demand insights about their device, rate-limited per device and local day.
//
// Threads: offer_alert() is called on the MQTT client's thread and only queues; run() and
// run_cycle() do all the work on the caller's thread, which owns the repository's connection.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "config/insights_config.hpp"
#include "insights/generator.hpp"
#include "insights/repository.hpp"
#include "util/clock.hpp"
#include "util/cron.hpp"
#include "util/time_zone.hpp"

namespace energyhub::insights {

// The row of insight_schedule this schedule keeps its last slot in.
constexpr const char* kScheduleName = "insights";
// Alerts waiting for the worker; beyond this they are dropped with a warning (they are stored by
// the hub anyway, so only their on-demand insight is lost).
constexpr std::size_t kMaxQueuedAlerts = 1000;

struct CycleResult {
    int users = 0;
    int failed = 0;
    int from_model = 0;
    int from_rules = 0;
    bool unknown_user = false;  // the one user asked for does not exist
};

// The daemon's loop turns at least this often, and between insights of a cycle.
constexpr std::int64_t kSchedulerMaxWaitMs = 30'000;

class InsightScheduler {
public:
    // `on_storage_error` runs after a repository call threw (e.g. to drop a broken connection).
    InsightScheduler(const InsightsConfig& config, InsightRepository& repository, InsightGenerator& generator,
                     const UtcOffsets& zone, const Clock& clock, std::function<void()> on_storage_error = {});

    // One insight per user (or for `only_user`), now. Stops early when `stop` is set.
    CycleResult run_cycle(const std::string& only_user, const std::atomic<bool>& stop);

    // The daemon: until `stop` is set (then call wake()).
    void run(const std::atomic<bool>& stop);
    void wake();

    // When the scheduler last showed it was turning (steady clock): each loop turn and each
    // insight. The daemon's liveness, and so the systemd watchdog, follow it.
    std::int64_t heartbeat_ms() const { return heartbeat_ms_.load(); }

    // From the MQTT thread, after each connection to the broker: the run loop publishes every
    // user's newest insight again, since a broker that restarted may have lost what it retained.
    void republish();

    // From the MQTT thread: queue an alert event. Never throws, never blocks for long.
    void offer_alert(std::string_view topic, std::string_view payload) noexcept;

    // Handles one alert event now; true if it made an on-demand insight. Storage errors throw.
    bool handle_alert(const std::string& topic, const std::string& payload);

private:
    bool pop_alert(std::pair<std::string, std::string>& out);
    void push_front(std::pair<std::string, std::string> item);

    const InsightsConfig& config_;
    InsightRepository& repository_;
    InsightGenerator& generator_;
    const UtcOffsets& zone_;
    const Clock& clock_;
    std::function<void()> on_storage_error_;
    CronSchedule schedule_;

    std::mutex mutex_;
    std::condition_variable wakeup_;
    std::deque<std::pair<std::string, std::string>> alerts_;
    std::uint64_t dropped_alerts_ = 0;
    std::atomic<std::int64_t> heartbeat_ms_{0};
    std::atomic<bool> republish_{false};
};

}  // namespace energyhub::insights
