#include "broker/refresher.hpp"

#include <algorithm>

#include "broker/pg_source.hpp"

namespace energyhub::broker {

namespace {
using SteadyClock = std::chrono::steady_clock;
constexpr Millis kMaxBackoff{5'000};  // a database that comes back is used again within this
}  // namespace

Refresher::Refresher(const Options& options, LogQueue& log)
    : options_(options), log_(log), directory_(std::make_shared<const Directory>()) {}

Refresher::~Refresher() { stop(); }

void Refresher::start() {
    if (thread_.joinable()) return;
    stop_ = false;
    thread_ = std::thread([this] {
        try {
            run();
        } catch (...) {
            // Only allocation failures get here; the broker keeps the last registry.
        }
    });
}

void Refresher::stop() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    first_load_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Refresher::request_full_reload() {
    {
        std::lock_guard lock(mutex_);
        reload_requested_ = true;
    }
    wake_.notify_all();
}

bool Refresher::wait_first_load(Millis timeout) {
    std::unique_lock lock(mutex_);
    return first_load_.wait_for(lock, timeout, [this] { return loaded_.load() || stop_.load(); }) && loaded_.load();
}

std::vector<std::string> Refresher::take_revoked() {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    out.swap(revoked_);
    return out;
}

void Refresher::swap_in(std::shared_ptr<const Directory> next, std::vector<std::string> revoked) {
    directory_.store(std::move(next), std::memory_order_release);
    if (revoked.empty()) return;
    std::lock_guard lock(mutex_);
    if (revoked_.size() > 100'000) return;  // nobody drains it (no ticks): do not grow without end
    revoked_.insert(revoked_.end(), std::make_move_iterator(revoked.begin()), std::make_move_iterator(revoked.end()));
}

void Refresher::sleep_for(Millis d) {
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, d, [this] { return stop_.load() || reload_requested_; });
}

void Refresher::run() {
    PgSource source(options_.postgres_dsn, options_.db_timeout, stop_);
    LogPosition position;
    bool need_full = true;
    bool warned_no_accounts = false;
    bool unreachable = false;
    Millis backoff{0};
    auto next_full = SteadyClock::now();
    std::size_t last_size = 0;

    while (!stop_.load()) {
        {
            std::lock_guard lock(mutex_);
            if (reload_requested_) need_full = true;
            reload_requested_ = false;
        }
        auto now = SteadyClock::now();
        if (options_.full_reload_interval.count() > 0 && now >= next_full) need_full = true;
        try {
            if (need_full) {
                auto load = source.load_all();
                auto next = std::make_shared<const Directory>(std::move(load.principals));
                auto current = directory();
                auto revoked = current->revoked_in(*next);
                bool first = !loaded_.load();
                if (first || next->size() != last_size) {
                    log_.push(LogLevel::info, "energyhub: registry loaded: " + std::to_string(load.devices) + " devices, " +
                                                  std::to_string(load.accounts) + " accounts" +
                                                  (load.conflicts ? ", " + std::to_string(load.conflicts) +
                                                                        " names used by both (refused)"
                                                                  : std::string()));
                }
                if (!load.accounts_table && !warned_no_accounts) {
                    log_.push(LogLevel::warning,
                              "energyhub: table mqtt_accounts not found (run 'energyhub migrate'): only devices can log in");
                    warned_no_accounts = true;
                }
                last_size = next->size();
                swap_in(std::move(next), std::move(revoked));
                position = load.position;
                need_full = false;
                next_full = now + options_.full_reload_interval;
                if (first) {
                    {
                        std::lock_guard lock(mutex_);
                        loaded_ = true;
                    }
                    first_load_.notify_all();
                }
            } else {
                auto delta = source.changes_since(position);
                if (delta.needs_full_reload) {
                    need_full = true;
                    continue;  // at once, no sleep
                }
                if (!delta.changes.empty()) {
                    std::vector<std::string> revoked;
                    auto next = directory()->apply(delta.changes, &revoked);
                    last_size = next->size();
                    log_.push(LogLevel::info, "energyhub: registry: applied " + std::to_string(delta.changes.size()) +
                                                  " change(s), " + std::to_string(last_size) + " principals");
                    swap_in(std::move(next), std::move(revoked));
                }
                position = delta.position;
            }
            if (unreachable) {
                log_.push(LogLevel::notice, "energyhub: PostgreSQL answers again; registry is current");
                unreachable = false;
            }
            backoff = Millis{0};
            sleep_for(options_.refresh_interval);
        } catch (...) {
            if (stop_.load()) break;
            if (!unreachable) {
                std::string why = "unknown error";
                try {
                    throw;
                } catch (const std::exception& e) {
                    why = e.what();
                } catch (...) {
                }
                log_.push(LogLevel::warning, "energyhub: registry refresh failed (" + why + "); keeping the " +
                                                 std::to_string(directory()->size()) + " known principals and retrying");
                unreachable = true;
            }
            backoff = std::min(kMaxBackoff, std::max(Millis{1'000}, backoff * 2));
            sleep_for(backoff);
        }
    }
    source.disconnect();
}

}  // namespace energyhub::broker
