#include "service/insights_daemon.hpp"

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "insights/generator.hpp"
#include "insights/scheduler.hpp"
#include "mqtt/mqtt_client.hpp"
#include "ollama/ollama_client.hpp"
#include "postgres/insight_repository.hpp"
#include "postgres/session.hpp"
#include "util/clock.hpp"
#include "util/logging.hpp"
#include "util/signals.hpp"
#include "util/systemd.hpp"
#include "http/prometheus.hpp"
#include "service/daemon_support.hpp"
#include "util/time_zone.hpp"
#include "util/redact.hpp"

namespace energyhub {

namespace {

constexpr auto kDisconnectTimeout = std::chrono::milliseconds(5000);

// Says at start whether the model can be used; insights fall back to the rules either way.
void check_model(ollama::OllamaClient& client, const OllamaConfig& config) {
    auto log = spdlog::get("insights.ollama");
    std::string error;
    const auto models = client.list_models(&error);
    if (!models) {
        log->warn("{} is not reachable now ({}); insights use the built-in rules until it is", redact(config.url), redact(error));
        return;
    }
    if (client.has_model(*models)) log->info("{} serves {}", redact(config.url), config.model);
    else log->warn("{} does not have the model {} (ollama pull {}); insights use the built-in rules", redact(config.url),
                   config.model, config.model);
}

}  // namespace

int run_insights(const Config& config, bool once, const std::string& user) {
    auto log = spdlog::get("insights");
    // The schedule's zone becomes the process's zone before any thread starts (util/time_zone.hpp).
    set_process_time_zone(config.insights.timezone);
    std::optional<ShutdownSignals> signals;
    if (!once) signals.emplace();  // blocks the signals in every thread started from here on

    std::atomic<bool> stop{false};
    const Clock& clock = SystemClock::instance();
    postgres::Session session(config.postgres.dsn);
    postgres::InsightRepository repository(session);

    MqttConfig mqtt_config = config.mqtt;
    // A one-shot run must not take over the daemon's session on the broker.
    mqtt_config.client_id = once ? config.insights.client_id + "-once" : config.insights.client_id;
    // Its status topic is then energyhub/status/insights/<client id>, which the insights account may use.
    MqttClient mqtt(mqtt_config, "insights", "");

    std::unique_ptr<ollama::OllamaClient> model;
    if (!config.ollama.url.empty()) {
        model = std::make_unique<ollama::OllamaClient>(config.ollama, &stop);
        check_model(*model, config.ollama);
    } else {
        log->info("no ollama.url: insights come from the built-in rules");
    }
    std::atomic<std::uint64_t> published{0};
    insights::InsightGenerator generator(
        config.insights, repository, model.get(),
        [&](const std::string& topic, const std::string& payload) {
            ++published;
            return mqtt.publish(topic, payload, 1, true);
        },
        clock);
    ProcessTimeZone zone;
    insights::InsightScheduler scheduler(config.insights, repository, generator, zone, clock, [&] { session.reset(); });

    if (once) {
        const auto deadline = clock.steady_ms() + std::max<std::int64_t>(config.mqtt.connect_timeout.count(), 5000);
        if (!mqtt.connect([&] { return clock.steady_ms() > deadline; })) {
            log->error("cannot connect to {}: no insights published", redact(config.mqtt.uri));
            return 1;
        }
        const auto result = scheduler.run_cycle(user, stop);
        mqtt.disconnect(kDisconnectTimeout);
        if (result.unknown_user) {
            log->error("unknown user {}", user);
            return 2;
        }
        return result.failed ? 1 : 0;
    }

    mqtt.on_message([&](std::string_view topic, std::string_view payload, bool) { scheduler.offer_alert(topic, payload); });
    mqtt.subscribe(config.mqtt.alert_prefix + "/#", 1);

    HealthRegistry health;
    health.add("mqtt", true, [&] { return ComponentHealth{mqtt.connected(), "{}"}; });
    health.liveness([&] {
        // The scheduler turns at least every kSchedulerMaxWaitMs and between insights; one insight
        // may wait for the model up to ollama.timeout. Longer means the scheduler is stuck.
        const auto limit = 2 * insights::kSchedulerMaxWaitMs + config.ollama.timeout.count() + 60'000;
        return ComponentHealth{clock.steady_ms() - scheduler.heartbeat_ms() < limit, "{}"};
    });
    auto http = start_http(config.http, config.http.insights_listen, health, [&] {
        PrometheusText p;
        p.family("energyhub_insights_fallbacks_total",
                 "Insights the built-in rules made because the configured model failed, by reason", "counter");
        for (std::size_t i = 0; i < insights::kFallbackReasonCount; ++i) {
            const auto reason = static_cast<insights::FallbackReason>(i);
            p.sample("energyhub_insights_fallbacks_total", static_cast<double>(generator.fallbacks(reason)),
                     std::string("reason=\"") + insights::fallback_reason_name(reason) + "\"");
        }
        p.counter("energyhub_insights_published_total", "Insights stored and published", static_cast<double>(published.load()))
            .counter("energyhub_mqtt_reconnects_total", "Reconnections to the broker", static_cast<double>(mqtt.reconnects()))
            .gauge("energyhub_mqtt_connected", "1 while connected to the broker", mqtt.connected() ? 1 : 0);
        return p.text();
    });

    std::atomic<bool> failed{false};
    log->info("insights starting: schedule '{}' in {}, alerts from {}/#", config.insights.schedule, config.insights.timezone,
              config.mqtt.alert_prefix);
    std::thread work;
    DaemonHooks hooks;
    hooks.log = log;
    hooks.config_path = config.source;
    hooks.ready_status = "scheduling insights";
    hooks.stop = [&] { scheduler.wake(); };
    hooks.connected = [&] {
        work = std::thread([&] {
            try {
                scheduler.run(stop);
            } catch (const std::exception& e) {
                log->critical("insight scheduler failed: {}", e.what());
                failed = true;
                ShutdownSignals::request_shutdown();
            }
        });
    };
    hooks.alive = [&] { return health.alive().status == 200; };
    serve_until_stopped(*signals, mqtt, stop, hooks);
    if (work.joinable()) work.join();
    if (http) http->stop();
    mqtt.disconnect(kDisconnectTimeout);
    log->info("insights stopped");
    return failed ? 1 : 0;
}

}  // namespace energyhub
