#pragma once
// The background thread that keeps the Directory current: a full load at start and every
// full_reload_interval, and between them a poll of the change logs every refresh_interval, so a
// device added with the CLI can log in within about a second. When PostgreSQL cannot answer, the
// last directory stays in force (known devices keep logging in and publishing) and the thread
// retries with a short backoff. The broker thread only ever does an atomic load.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker/directory.hpp"
#include "broker/log.hpp"
#include "broker/options.hpp"

namespace energyhub::broker {

class Refresher {
public:
    Refresher(const Options& options, LogQueue& log);
    ~Refresher();
    Refresher(const Refresher&) = delete;
    Refresher& operator=(const Refresher&) = delete;

    void start();
    void stop();  // returns within about a quarter second, whatever the database does

    // Reload everything now (the broker's SIGHUP).
    void request_full_reload();
    // Blocks until the first full load succeeded or `timeout` passed; true if loaded.
    bool wait_first_load(Millis timeout);

    std::shared_ptr<const Directory> directory() const { return directory_.load(std::memory_order_acquire); }
    bool loaded() const { return loaded_.load(); }

    // Usernames whose access ended or changed since the last call: their sessions are closed.
    std::vector<std::string> take_revoked();

private:
    void run();
    void swap_in(std::shared_ptr<const Directory> next, std::vector<std::string> revoked);
    void sleep_for(Millis d);

    Options options_;
    LogQueue& log_;
    std::atomic<std::shared_ptr<const Directory>> directory_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> loaded_{false};
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable first_load_;
    bool reload_requested_ = false;
    std::vector<std::string> revoked_;
    std::thread thread_;
};

}  // namespace energyhub::broker
