#pragma once
// Logging for the plugin. The plugin logs only through the broker's log function, and only from
// the broker thread (Mosquitto's logging is not thread-safe: it may publish to $SYS topics). The
// refresher thread therefore queues its lines, and the broker's tick writes them. Repeated
// per-message lines (refused logins, dropped payloads) are rate-limited per kind.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/string_hash.hpp"

namespace energyhub::broker {

enum class LogLevel { debug, info, notice, warning, error };

struct LogLine {
    LogLevel level;
    std::string text;
};

// Lines from other threads, waiting for the broker thread. Bounded: when nobody drains it, the
// oldest lines are dropped and counted.
class LogQueue {
public:
    explicit LogQueue(std::size_t capacity = 1000) : capacity_(capacity) {}

    void push(LogLevel level, std::string text);
    // Everything queued so far; `dropped` receives how many lines were lost since the last call.
    std::vector<LogLine> take(std::uint64_t* dropped);

private:
    std::mutex mutex_;
    std::vector<LogLine> lines_;
    std::size_t capacity_;
    std::uint64_t dropped_ = 0;
};

// At most `burst` lines per key and window; the next line allowed reports how many were skipped.
class LogLimiter {
public:
    using Clock = std::chrono::steady_clock;
    LogLimiter(std::size_t burst, Clock::duration window) : burst_(burst), window_(window) {}

    bool allow(std::string_view key, Clock::time_point now, std::uint64_t* suppressed);

private:
    struct State {
        Clock::time_point window_start;
        std::size_t used = 0;
        std::uint64_t suppressed = 0;
    };
    std::size_t burst_;
    Clock::duration window_;
    std::unordered_map<std::string, State, StringHash, std::equal_to<>> keys_;
};

}  // namespace energyhub::broker
