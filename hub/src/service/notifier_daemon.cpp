#include "service/notifier_daemon.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "mqtt/mqtt_client.hpp"
#include "notify/notifier.hpp"
#include "pipeline/alert_event.hpp"
#include "http/prometheus.hpp"
#include "postgres/alert_queue.hpp"
#include "service/daemon_support.hpp"
#include "smtp/mailer.hpp"
#include "util/logging.hpp"
#include "util/clock.hpp"
#include "util/signals.hpp"
#include "util/systemd.hpp"
#include "util/redact.hpp"

namespace energyhub {

int run_notifier(const Config& config, const std::string& config_path) {
    auto log = spdlog::get("notifier");
    ShutdownSignals signals;

    // The alerts table is the queue; an alert on the topic only says "look now".
    std::mutex mutex;
    std::condition_variable wake;
    bool woken = false, stopping = false;
    auto nudge = [&] {
        std::lock_guard lock(mutex);
        woken = true;
        wake.notify_one();
    };

    MqttConfig mqtt_config = config.mqtt;
    mqtt_config.client_id = config.notifier.client_id;
    MqttClient mqtt(mqtt_config, "notifier", "");
    mqtt.on_message([&](std::string_view topic, std::string_view payload, bool) {
        if (!alert_from_json(payload)) {
            log->debug("ignored a message on {} that is not an alert event", topic);
            return;
        }
        nudge();
    });
    mqtt.subscribe(config.mqtt.alert_prefix + "/#", 1);

    postgres::Session session(config.postgres.dsn);
    postgres::AlertQueue queue(session, config.notifier);
    SmtpMailer mailer(config.smtp);
    NotifierMetrics metrics;
    Notifier notifier(config, queue, mailer, metrics);

    std::thread worker([&] {
        bool db_down = false;
        for (;;) {
            metrics.heartbeat_ms = SystemClock::instance().steady_ms();
            try {
                notifier.run_once();
                if (db_down) log->info("database is back");
                db_down = false;
            } catch (const std::exception& e) {
                session.reset();
                if (!db_down) log->warn("cannot read alerts, will retry: {}", e.what());
                db_down = true;
            }
            metrics.postgres_up = !db_down;
            std::unique_lock lock(mutex);
            wake.wait_for(lock, config.notifier.poll_interval, [&] { return woken || stopping; });
            if (stopping) return;
            woken = false;
        }
    });

    HealthRegistry health;
    health.add("mqtt", true, [&] { return ComponentHealth{mqtt.connected(), "{}"}; });
    health.add("postgres", true, [&] { return ComponentHealth{metrics.postgres_up.load(), "{}"}; });
    health.add("smtp", false, [&] { return ComponentHealth{metrics.smtp_up.load(), "{\"required\":false}"}; });
    health.liveness([&] {
        // The loop wakes at least every poll_interval; a send can take up to the SMTP timeout.
        auto limit = 2 * (config.notifier.poll_interval + config.smtp.timeout).count();
        return ComponentHealth{SystemClock::instance().steady_ms() - metrics.heartbeat_ms.load() < limit, "{}"};
    });
    auto http = start_http(config.http, config.http.notifier_listen, health, [&] {
        PrometheusText p;
        p.counter("energyhub_emails_sent_total", "Emails accepted by the SMTP server", static_cast<double>(metrics.emails_sent.load()))
            .counter("energyhub_emails_failed_total", "Email attempts that failed", static_cast<double>(metrics.emails_failed.load()))
            .counter("energyhub_alerts_notified_total", "Alert transitions emailed", static_cast<double>(metrics.alerts_notified.load()))
            .counter("energyhub_alerts_given_up_total", "Alert transitions not emailed after the retry budget",
                     static_cast<double>(metrics.alerts_given_up.load()))
            .counter("energyhub_mqtt_reconnects_total", "Reconnections to the broker", static_cast<double>(mqtt.reconnects()));
        return p.text();
    });

    log->info("notifier starting: alerts from {}/#, mail through {}", config.mqtt.alert_prefix, redact(config.smtp.url));
    std::atomic<bool> shutdown{false};
    DaemonHooks hooks;
    hooks.log = log;
    hooks.config_path = config_path;
    hooks.ready_status = "sending alert emails";
    hooks.stop = [&] {
        std::lock_guard lock(mutex);
        stopping = true;
        wake.notify_one();
    };
    hooks.alive = [&] { return health.alive().status == 200; };
    serve_until_stopped(signals, mqtt, shutdown, hooks);
    worker.join();
    if (http) http->stop();
    mqtt.disconnect(std::chrono::milliseconds(2000));
    log->info("notifier stopped: emails_sent={} emails_failed={} alerts_notified={} alerts_given_up={}",
              metrics.emails_sent.load(), metrics.emails_failed.load(), metrics.alerts_notified.load(),
              metrics.alerts_given_up.load());
    return 0;
}

}  // namespace energyhub
