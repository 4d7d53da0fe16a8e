#include "service/notifier_daemon.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "http/prometheus.hpp"
#include "mqtt/mqtt_client.hpp"
#include "notify/notifier.hpp"
#include "pipeline/alert_event.hpp"
#include "postgres/alert_queue.hpp"
#include "service/daemon_support.hpp"
#include "smtp/mailer.hpp"
#include "util/clock.hpp"
#include "util/logging.hpp"
#include "util/redact.hpp"
#include "util/signals.hpp"
#include "util/systemd.hpp"

namespace energyhub {

namespace {

constexpr auto kNotifierDisconnectTimeout = std::chrono::milliseconds(2000);
// The hub announces an alert once decided, before its batch is stored (within its flush interval):
// after an event the table is looked at again 250 ms later, then 500 ms, 1 s and 2 s, for a row
// that was not there yet.
constexpr auto kFirstFollowUp = std::chrono::milliseconds(250);
constexpr auto kLastFollowUp = std::chrono::milliseconds(2000);

// The notifier's parts: the alerts table is the queue, and an alert on the topic only says "look
// now"; one thread sends, waking on that nudge or every poll_interval.
class NotifierDaemon {
public:
    explicit NotifierDaemon(const Config& config)
        : config_(config),
          mqtt_(with_client_id(config.mqtt, config.notifier.client_id), "notifier", ""),
          session_(config.postgres.dsn),
          queue_(session_, config.notifier),
          mailer_(config.smtp),
          notifier_(config, queue_, mailer_, metrics_) {}

    MqttClient& mqtt() { return mqtt_; }

    void start() {
        mqtt_.on_message([this](std::string_view topic, std::string_view payload, bool) {
            if (alert_from_json(payload)) return nudge();
            log_->debug("ignored a message on {} that is not an alert event", topic);
        });
        mqtt_.subscribe(config_.mqtt.alert_prefix + "/#", 1);
        worker_ = std::thread([this] { send_loop(); });
        add_health();
        http_ = start_http(config_.http, config_.http.notifier_listen, health_, [this] { return metrics_text(); });
        log_->info("notifier starting: alerts from {}/#, mail through {}", config_.mqtt.alert_prefix,
                   redact(config_.smtp.url));
    }

    DaemonHooks hooks(const std::string& config_path) {
        DaemonHooks hooks;
        hooks.log = log_;
        hooks.config_path = config_path;
        hooks.ready_status = "sending alert emails";
        hooks.stop = [this] {
            std::lock_guard lock(mutex_);
            stopping_ = true;
            wake_.notify_one();
        };
        hooks.alive = [this] { return health_.alive().status == 200; };
        return hooks;
    }

    int stop() {
        worker_.join();
        if (http_) http_->stop();
        mqtt_.disconnect(kNotifierDisconnectTimeout);
        log_->info("notifier stopped: emails_sent={} emails_failed={} alerts_notified={} alerts_given_up={}",
                   metrics_.emails_sent.load(), metrics_.emails_failed.load(), metrics_.alerts_notified.load(),
                   metrics_.alerts_given_up.load());
        return 0;
    }

private:
    void nudge() {
        std::lock_guard lock(mutex_);
        woken_ = true;
        wake_.notify_one();
    }

    void send_loop() {
        bool db_down = false;
        std::chrono::milliseconds follow_up{0};  // 0: none due
        for (;;) {
            metrics_.heartbeat_ms = SystemClock::instance().steady_ms();
            try {
                notifier_.run_once();
                if (db_down) log_->info("database is back");
                db_down = false;
            } catch (const StoreError& e) {
                if (!db_down) log_->warn("cannot read alerts ({}), will retry: {}", to_string(e.failure()), e.what());
                db_down = true;
            }
            metrics_.postgres_up = !db_down;
            std::unique_lock lock(mutex_);
            const auto wait = follow_up.count() > 0 ? std::min(follow_up, config_.notifier.poll_interval)
                                                    : config_.notifier.poll_interval;
            wake_.wait_for(lock, wait, [this] { return woken_ || stopping_; });
            if (stopping_) return;
            if (woken_)
                follow_up = kFirstFollowUp;
            else if (follow_up.count() > 0)
                follow_up = follow_up < kLastFollowUp ? follow_up * 2 : std::chrono::milliseconds(0);
            woken_ = false;
        }
    }

    void add_health() {
        health_.add("mqtt", true, [this] { return ComponentHealth{mqtt_.connected(), "{}"}; });
        health_.add("postgres", true, [this] { return ComponentHealth{metrics_.postgres_up.load(), "{}"}; });
        health_.add("smtp", false, [this] { return ComponentHealth{metrics_.smtp_up.load(), "{\"required\":false}"}; });
        health_.liveness([this] {
            // The loop wakes at least every poll_interval; a send can take up to the SMTP timeout.
            auto limit = 2 * (config_.notifier.poll_interval + config_.smtp.timeout).count();
            return ComponentHealth{SystemClock::instance().steady_ms() - metrics_.heartbeat_ms.load() < limit, "{}"};
        });
    }

    std::string metrics_text() const {
        PrometheusText p;
        p.counter("energyhub_emails_sent_total", "Emails accepted by the SMTP server",
                  static_cast<double>(metrics_.emails_sent.load()))
            .counter("energyhub_emails_failed_total", "Email attempts that failed",
                     static_cast<double>(metrics_.emails_failed.load()))
            .counter("energyhub_alerts_notified_total", "Alert transitions emailed",
                     static_cast<double>(metrics_.alerts_notified.load()))
            .counter("energyhub_alerts_given_up_total", "Alert transitions not emailed after the retry budget",
                     static_cast<double>(metrics_.alerts_given_up.load()))
            .counter("energyhub_mqtt_reconnects_total", "Reconnections to the broker",
                     static_cast<double>(mqtt_.reconnects()));
        return p.text();
    }

    const Config& config_;
    std::shared_ptr<spdlog::logger> log_ = spdlog::get("notifier");
    std::mutex mutex_;
    std::condition_variable wake_;
    bool woken_ = false;
    bool stopping_ = false;
    MqttClient mqtt_;
    postgres::Session session_;
    postgres::AlertQueue queue_;
    SmtpMailer mailer_;
    NotifierMetrics metrics_;
    Notifier notifier_;
    std::thread worker_;
    HealthRegistry health_;
    std::unique_ptr<HttpServer> http_;
};

}  // namespace

int run_notifier(const Config& config, const std::string& config_path) {
    ShutdownSignals signals;  // before any thread starts, so all inherit the mask
    NotifierDaemon notifier(config);
    notifier.start();
    std::atomic<bool> shutdown{false};
    serve_until_stopped(signals, notifier.mqtt(), shutdown, notifier.hooks(config_path));
    return notifier.stop();
}

}  // namespace energyhub
