#include "service/insights_daemon.hpp"

#include <algorithm>
#include <atomic>
#include <thread>

#include <spdlog/spdlog.h>

#include "http/prometheus.hpp"
#include "insights/generator.hpp"
#include "insights/scheduler.hpp"
#include "mqtt/mqtt_client.hpp"
#include "ollama/ollama_client.hpp"
#include "postgres/insight_repository.hpp"
#include "postgres/session.hpp"
#include "service/daemon_support.hpp"
#include "util/clock.hpp"
#include "util/logging.hpp"
#include "util/redact.hpp"
#include "util/signals.hpp"
#include "util/systemd.hpp"
#include "util/time_zone.hpp"

namespace energyhub {

namespace {

constexpr auto kInsightsDisconnectTimeout = std::chrono::milliseconds(5000);

// Says at start whether the model can be used; insights fall back to the rules either way.
void check_model(ollama::OllamaClient& client, const OllamaConfig& config) {
    auto log = spdlog::get("insights.ollama");
    std::string error;
    const auto models = client.list_models(&error);
    if (!models) {
        log->warn("{} is not reachable now ({}); insights use the built-in rules until it is", redact(config.url),
                  redact(error));
        return;
    }
    if (client.has_model(*models))
        log->info("{} serves {}", redact(config.url), config.model);
    else
        log->warn("{} does not have the model {} (ollama pull {}); insights use the built-in rules", redact(config.url),
                  config.model, config.model);
}

// The insights daemon's parts; with `once`, one cycle over all users (or one) instead.
class InsightsDaemon {
public:
    InsightsDaemon(const Config& config, bool once)
        : config_(config),
          session_(config.postgres.dsn),
          repository_(session_),
          // A one-shot run must not take over the daemon's session on the broker; its status topic is
          // then energyhub/status/insights/<client id>, which the insights account may use.
          mqtt_(with_client_id(config.mqtt, once ? config.insights.client_id + "-once" : config.insights.client_id),
                "insights", ""),
          model_(make_model(config, stop_)),
          generator_(
              config.insights, repository_, model_.get(),
              // Only the scheduler's thread publishes; paced, since it publishes in bursts (a run,
              // every user's insight again after a reconnect).
              [this](const std::string& topic, const std::string& payload) {
                  ++published_;
                  return mqtt_.publish_paced(topic, payload, 1, true);
              },
              clock_),
          scheduler_(config.insights, repository_, generator_, zone_, clock_, [this] { session_.reset(); }) {}

    MqttClient& mqtt() { return mqtt_; }
    std::atomic<bool>& stop_flag() { return stop_; }

    // Exit code: 0 ok, 1 a failure, 2 an unknown user.
    int run_once(const std::string& user) {
        const auto deadline = clock_.steady_ms() + std::max<std::int64_t>(config_.mqtt.connect_timeout.count(), 5000);
        if (!mqtt_.connect([&] { return clock_.steady_ms() > deadline; })) {
            log_->error("cannot connect to {}: no insights published", redact(config_.mqtt.uri));
            return 1;
        }
        const auto result = scheduler_.run_cycle(user, stop_);
        mqtt_.disconnect(kInsightsDisconnectTimeout);
        if (result.unknown_user) {
            log_->error("unknown user {}", user);
            return 2;
        }
        return result.failed ? 1 : 0;
    }

    void start() {
        mqtt_.on_message(
            [this](std::string_view topic, std::string_view payload, bool) { scheduler_.offer_alert(topic, payload); });
        mqtt_.subscribe(config_.mqtt.alert_prefix + "/#", 1);
        mqtt_.on_connected([this] { scheduler_.republish(); });
        health_.add("mqtt", true, [this] { return ComponentHealth{mqtt_.connected(), "{}"}; });
        health_.liveness([this] {
            // The scheduler turns at least every kSchedulerMaxWaitMs and between insights; one insight
            // may wait for the model up to ollama.timeout. Longer means the scheduler is stuck.
            const auto limit = 2 * insights::kSchedulerMaxWaitMs + config_.ollama.timeout.count() + 60'000;
            return ComponentHealth{clock_.steady_ms() - scheduler_.heartbeat_ms() < limit, "{}"};
        });
        http_ = start_http(config_.http, config_.http.insights_listen, health_, [this] { return metrics_text(); });
        log_->info("insights starting: schedule '{}' in {}, alerts from {}/#", config_.insights.schedule,
                   config_.insights.timezone, config_.mqtt.alert_prefix);
    }

    DaemonHooks hooks() {
        DaemonHooks hooks;
        hooks.log = log_;
        hooks.config_path = config_.source;
        hooks.ready_status = "scheduling insights";
        hooks.stop = [this] { scheduler_.wake(); };
        hooks.connected = [this] {
            work_ = start_guarded(log_, "insight scheduler", failed_, [this] { scheduler_.run(stop_); });
        };
        hooks.alive = [this] { return health_.alive().status == 200; };
        return hooks;
    }

    int stop() {
        if (work_.joinable()) work_.join();
        if (http_) http_->stop();
        mqtt_.disconnect(kInsightsDisconnectTimeout);
        log_->info("insights stopped");
        return failed_ ? 1 : 0;
    }

private:
    static std::unique_ptr<ollama::OllamaClient> make_model(const Config& config, const std::atomic<bool>& stop) {
        if (config.ollama.url.empty()) {
            spdlog::get("insights")->info("no ollama.url: insights come from the built-in rules");
            return nullptr;
        }
        auto model = std::make_unique<ollama::OllamaClient>(config.ollama, &stop);
        check_model(*model, config.ollama);
        return model;
    }

    std::string metrics_text() const {
        PrometheusText p;
        p.family("energyhub_insights_fallbacks_total",
                 "Insights the built-in rules made because the configured model failed, by reason", "counter");
        for (std::size_t i = 0; i < insights::kFallbackReasonCount; ++i) {
            const auto reason = static_cast<insights::FallbackReason>(i);
            p.sample("energyhub_insights_fallbacks_total", static_cast<double>(generator_.fallbacks(reason)),
                     std::string("reason=\"") + insights::fallback_reason_name(reason) + "\"");
        }
        p.counter("energyhub_insights_published_total",
                  "Insight messages published: each new insight, and each user's newest again after a connection",
                  static_cast<double>(published_.load()))
            .counter("energyhub_mqtt_reconnects_total", "Reconnections to the broker",
                     static_cast<double>(mqtt_.reconnects()))
            .gauge("energyhub_mqtt_connected", "1 while connected to the broker", mqtt_.connected() ? 1 : 0);
        return p.text();
    }

    const Config& config_;
    const Clock& clock_ = SystemClock::instance();
    std::shared_ptr<spdlog::logger> log_ = spdlog::get("insights");
    std::atomic<bool> stop_{false};
    std::atomic<bool> failed_{false};
    std::atomic<std::uint64_t> published_{0};
    postgres::Session session_;
    postgres::InsightRepository repository_;
    MqttClient mqtt_;
    std::unique_ptr<ollama::OllamaClient> model_;
    insights::InsightGenerator generator_;
    ProcessTimeZone zone_;
    insights::InsightScheduler scheduler_;
    std::thread work_;
    HealthRegistry health_;
    std::unique_ptr<HttpServer> http_;
};

}  // namespace

int run_insights(const Config& config, bool once, const std::string& user) {
    // The schedule's zone becomes the process's zone before any thread starts (util/time_zone.hpp).
    set_process_time_zone(config.insights.timezone);
    if (once) return InsightsDaemon(config, true).run_once(user);
    ShutdownSignals signals;  // blocks the signals in every thread started from here on
    InsightsDaemon daemon(config, false);
    daemon.start();
    serve_until_stopped(signals, daemon.mqtt(), daemon.stop_flag(), daemon.hooks());
    return daemon.stop();
}

}  // namespace energyhub
