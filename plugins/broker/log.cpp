#include "broker/log.hpp"

namespace energyhub::broker {

void LogQueue::push(LogLevel level, std::string text) {
    std::lock_guard lock(mutex_);
    if (lines_.size() >= capacity_) {
        lines_.erase(lines_.begin());
        ++dropped_;
    }
    lines_.push_back({level, std::move(text)});
}

std::vector<LogLine> LogQueue::take(std::uint64_t* dropped) {
    std::lock_guard lock(mutex_);
    if (dropped) *dropped = dropped_;
    dropped_ = 0;
    std::vector<LogLine> out;
    out.swap(lines_);
    return out;
}

bool LogLimiter::allow(std::string_view key, Clock::time_point now, std::uint64_t* suppressed) {
    auto it = keys_.find(key);
    if (it == keys_.end()) it = keys_.emplace(std::string(key), State{now, 0, 0}).first;
    auto& s = it->second;
    if (now - s.window_start >= window_) {
        s.window_start = now;
        s.used = 0;
    }
    if (s.used >= burst_) {
        ++s.suppressed;
        return false;
    }
    ++s.used;
    if (suppressed) *suppressed = s.suppressed;
    s.suppressed = 0;
    return true;
}

}  // namespace energyhub::broker
