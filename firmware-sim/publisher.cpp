#include "publisher.hpp"

#include <algorithm>
#include <deque>
#include <limits>
#include <optional>
#include <stdexcept>
#include <thread>

#include <mqtt/async_client.h>

#include "mqtt/paho_settings.hpp"

#include "ack_log.hpp"
#include "device_feed.hpp"
#include "engine_timing.hpp"
#include "log.hpp"

namespace energyhub::sim {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kKeepAlive = 30s;
constexpr auto kReconnectMax = 10s;  // Paho's automatic reconnect, from kReconnectMin
constexpr auto kDisconnectTimeout = 5s;
// Longest sleep between looks at the stop request and the acknowledgements.
constexpr auto kPollSlice = 50ms;

Clock::duration seconds(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

enum class Delivery { pending, acked, failed };

// The client library has no text for some of its codes; these are the ones a run meets.
std::string describe(const mqtt::exception& e) {
    switch (e.get_return_code()) {
        case MQTTASYNC_OPERATION_INCOMPLETE: return "connection lost before the broker confirmed the message";
        case MQTTASYNC_DISCONNECTED: return "not connected";
        case MQTTASYNC_MAX_BUFFERED_MESSAGES: return "reconnect buffer full";
        default: return e.what();
    }
}

struct InFlight {
    mqtt::delivery_token_ptr token;
    std::size_t device;  // index into the publisher's devices
    std::int64_t ts_ms;
    Clock::time_point sent_at;
};

mqtt::create_options create_options(int max_inflight) {
    // Keep accepting messages through a reconnect; the window keeps the buffer from overflowing.
    mqtt::create_options opts(MQTTVERSION_DEFAULT, max_inflight);
    opts.set_send_while_disconnected(true);
    return opts;
}

}  // namespace

class Publisher::Impl {
public:
    Impl(std::string client_id, const PublishOptions& options, std::vector<DeviceSpec> devices, AckLog* acked_log,
         const StopRequest& stop);

    void start_connect();
    void finish_connect();
    PublishStats run(Clock::time_point start);

private:
    Delivery poll(const InFlight& message, std::chrono::milliseconds wait);
    bool wait_until(Clock::time_point due);                                           // false when a stop was requested
    bool make_room();                                                                 // false when a stop was requested
    void publish(std::size_t device, std::optional<std::int64_t> ts = std::nullopt);  // default: now
    void publish_history();
    void reap(Clock::time_point now);
    void settle(const InFlight& message, Delivery outcome);
    void drain();
    void flush_acks(Clock::time_point now, bool force) { acks_.flush(now, force); }
    void disconnect();
    void note_failure(std::string what);
    bool stopping() const { return stop_.load(std::memory_order_relaxed) > 0; }

    std::string client_id_;
    PublishOptions options_;
    DeviceFeed feed_;
    std::vector<mqtt::string_ref> topics_;  // the feed's, shared by every message of the device
    AckLines acks_;
    const StopRequest& stop_;
    std::atomic<bool> connected_once_{false};  // declared before client_: its callbacks read it
    mqtt::async_client client_;
    mqtt::connect_options connect_options_;
    mqtt::token_ptr connect_token_;
    std::deque<InFlight> window_;
    Clock::time_point last_warning_{};
    std::uint64_t unreported_failures_ = 0;
    std::string last_failure_;
    PublishStats stats_;
};

Publisher::Impl::Impl(std::string client_id, const PublishOptions& options, std::vector<DeviceSpec> devices,
                      AckLog* acked_log, const StopRequest& stop)
    : client_id_(std::move(client_id)),
      options_(options),
      feed_(options.feed, std::move(devices)),
      acks_(acked_log),
      stop_(stop),
      client_(energyhub::paho_uri(options.uri), client_id_, create_options(options.max_inflight)) {
    topics_.reserve(feed_.size());
    for (std::size_t i = 0; i < feed_.size(); ++i) topics_.emplace_back(feed_.topic(i));

    auto builder = mqtt::connect_options_builder()
                       .clean_session(true)
                       .keep_alive_interval(kKeepAlive)
                       .connect_timeout(kConnectTimeout)
                       .automatic_reconnect(kReconnectMin, kReconnectMax)
                       .max_inflight(options.max_inflight);
    if (!options.username.empty()) builder.user_name(options.username).password(options.password);
    if (energyhub::is_tls_uri(options.uri))
        builder.ssl(energyhub::paho_ssl_options(options.tls, [this](const std::string& what) {
            try {
                logger()->error("{}: {}", client_id_, what);
            } catch (...) {}
        }));
    connect_options_ = builder.finalize();

    // These run on the client library's thread: nothing may escape them.
    client_.set_connection_lost_handler([this](const std::string& cause) {
        try {
            logger()->warn("{}: connection lost ({}), reconnecting", client_id_,
                           cause.empty() ? "no reason given" : cause);
        } catch (...) {}
    });
    client_.set_connected_handler([this](const std::string&) {
        try {
            if (connected_once_.exchange(true)) logger()->info("{}: reconnected", client_id_);
        } catch (...) {}
    });
}

void Publisher::Impl::start_connect() {
    try {
        connect_token_ = client_.connect(connect_options_);
    } catch (const mqtt::exception& e) {
        throw std::runtime_error("cannot connect to " + options_.uri + ": " + e.what());
    }
}

void Publisher::Impl::finish_connect() {
    try {
        if (!connect_token_->wait_for(kConnectTimeout + 2s))
            throw std::runtime_error("cannot connect to " + options_.uri + ": no answer within " +
                                     std::to_string(kConnectTimeout.count()) + " s");
    } catch (const mqtt::exception& e) {
        throw std::runtime_error("cannot connect to " + options_.uri + ": " + e.what());
    }
    connect_token_.reset();
    logger()->debug("{}: connected to {} with {} devices", client_id_, options_.uri, feed_.size());
}

PublishStats Publisher::Impl::run(Clock::time_point start) {
    try {
        const std::size_t n = feed_.size();
        constexpr auto kUnlimited = std::numeric_limits<std::uint64_t>::max();
        std::uint64_t limit = options_.count > 0 && options_.count < kUnlimited / std::max<std::size_t>(n, 1)
                                  ? options_.count * n
                                  : kUnlimited;
        if (options_.history_ms > 0) {
            publish_history();
            start = Clock::now();                                            // the live readings are paced from here
            if (options_.count == 0 && options_.duration_s <= 0) limit = 0;  // the past only
        }
        // Messages of this client are spread evenly over time, devices in turn, so device j of n
        // publishes at k/rate + j/(n*rate): every device at the requested rate, no bursts.
        const double interval_s = options_.rate > 0 ? 1.0 / (options_.rate * static_cast<double>(n)) : 0.0;
        const auto end = options_.duration_s > 0 ? start + seconds(options_.duration_s) : Clock::time_point::max();

        for (std::uint64_t m = 0; n > 0 && m < limit && !stopping(); ++m) {
            if (interval_s > 0) {
                // Due times are absolute, so a late message (slow wake-up, full window) is caught up
                // at once instead of shifting the rest of the schedule.
                const auto due = start + seconds(static_cast<double>(m) * interval_s);
                if (due >= end || !wait_until(due)) break;
            } else if (Clock::now() >= end) {
                break;
            }
            if (!make_room()) break;
            publish(static_cast<std::size_t>(m % n));
            const auto now = Clock::now();
            reap(now);
            flush_acks(now, false);
        }
        drain();
    } catch (const std::exception& e) {
        logger()->error("{}: publishing stopped: {}", client_id_, e.what());
    }
    flush_acks(Clock::now(), true);
    if (unreported_failures_ > 0)
        logger()->warn("{}: {} message(s) failed, last: {}", client_id_, unreported_failures_, last_failure_);
    disconnect();
    return stats_;
}

// A token reports failure by throwing from its wait functions; this turns that into a value.
Delivery Publisher::Impl::poll(const InFlight& message, std::chrono::milliseconds wait) {
    try {
        return message.token->wait_for(wait) ? Delivery::acked : Delivery::pending;
    } catch (const mqtt::exception& e) {
        note_failure(describe(e));
        return Delivery::failed;
    }
}

bool Publisher::Impl::wait_until(Clock::time_point due) {
    for (auto now = Clock::now(); now < due; now = Clock::now()) {
        if (stopping()) return false;
        reap(now);
        flush_acks(now, false);
        std::this_thread::sleep_until(std::min(due, now + kPollSlice));
    }
    return !stopping();
}

bool Publisher::Impl::make_room() {
    while (window_.size() >= static_cast<std::size_t>(options_.max_inflight)) {
        if (stopping()) return false;
        const auto outcome = poll(window_.front(), kPollSlice);
        const auto now = Clock::now();
        if (outcome != Delivery::pending) {
            settle(window_.front(), outcome);
            window_.pop_front();
        }
        reap(now);
        flush_acks(now, false);
    }
    return true;
}

// The past, in order: every device steps its model through [now - history, now) and publishes each
// reading with its own time, as fast as the window allows, before the live readings begin.
void Publisher::Impl::publish_history() {
    const std::int64_t now = wall_clock_ms();
    for (std::int64_t ts = now - options_.history_ms; ts < now && !stopping(); ts += options_.history_step_ms) {
        for (std::size_t i = 0; i < feed_.size(); ++i) {
            if (!make_room()) return;
            publish(i, ts + static_cast<std::int64_t>(i % 1000));  // devices a millisecond apart
            const auto t = Clock::now();
            reap(t);
            flush_acks(t, false);
        }
    }
}

void Publisher::Impl::publish(std::size_t index, std::optional<std::int64_t> at) {
    const auto reading = feed_.next(index, at);
    ++stats_.sent;
    try {
        auto token =
            client_.publish(topics_[index], reading.payload.data(), reading.payload.size(), options_.qos, false);
        window_.push_back(InFlight{std::move(token), index, reading.ts_ms, Clock::now()});
    } catch (const mqtt::exception& e) {
        ++stats_.failed;
        note_failure(describe(e));
    }
}

// Takes every finished message off the front of the window. Acknowledgements arrive in publish
// order, so stopping at the first unfinished one leaves little behind.
void Publisher::Impl::reap(Clock::time_point now) {
    while (!window_.empty()) {
        auto outcome = poll(window_.front(), 0ms);
        if (outcome == Delivery::pending) {
            if (now - window_.front().sent_at < kAckTimeout) return;
            outcome = Delivery::failed;
            note_failure("no acknowledgement within the timeout");
        }
        settle(window_.front(), outcome);
        window_.pop_front();
    }
}

void Publisher::Impl::settle(const InFlight& message, Delivery outcome) {
    if (outcome != Delivery::acked) {
        ++stats_.failed;
        return;
    }
    ++stats_.acked;
    acks_.add(feed_.spec(message.device).device_id, message.ts_ms);
}

void Publisher::Impl::drain() {
    const auto deadline = Clock::now() + options_.drain_timeout;
    while (!window_.empty() && stop_.load(std::memory_order_relaxed) < 2) {
        auto now = Clock::now();
        if (now >= deadline) break;
        const auto wait = std::min<Clock::duration>(kPollSlice, deadline - now);
        const auto outcome = poll(window_.front(), std::chrono::duration_cast<std::chrono::milliseconds>(wait));
        if (outcome != Delivery::pending) {
            settle(window_.front(), outcome);
            window_.pop_front();
        }
        flush_acks(Clock::now(), false);
    }
    if (window_.empty()) return;
    // Whatever is left was sent but never confirmed: it counts against the run.
    logger()->warn("{}: {} message(s) still unconfirmed, giving up on them", client_id_, window_.size());
    stats_.failed += window_.size();
    window_.clear();
}

void Publisher::Impl::disconnect() {
    try {
        client_.disconnect()->wait_for(kDisconnectTimeout);
    } catch (const mqtt::exception& e) {
        // Already disconnected (a broker that went away) is the common case here.
        logger()->debug("{}: disconnect: {}", client_id_, e.what());
    }
}

// Failures are rate-limited: a broker outage would otherwise log one line per message.
void Publisher::Impl::note_failure(std::string what) {
    ++unreported_failures_;
    last_failure_ = std::move(what);
    const auto now = Clock::now();
    if (now - last_warning_ < kWarnInterval) return;
    logger()->warn("{}: {} message(s) failed, last: {}", client_id_, unreported_failures_, last_failure_);
    unreported_failures_ = 0;
    last_warning_ = now;
}

Publisher::Publisher(std::string client_id, const PublishOptions& options, std::vector<DeviceSpec> devices,
                     AckLog* acked_log, const StopRequest& stop)
    : impl_(std::make_unique<Impl>(std::move(client_id), options, std::move(devices), acked_log, stop)) {}

Publisher::~Publisher() = default;

void Publisher::start_connect() { impl_->start_connect(); }

void Publisher::finish_connect() { impl_->finish_connect(); }

PublishStats Publisher::run(std::chrono::steady_clock::time_point start) { return impl_->run(start); }

}  // namespace energyhub::sim
