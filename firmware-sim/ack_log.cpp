#include "ack_log.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include "log.hpp"

namespace energyhub::sim {

AckLog::AckLog(const std::string& path) : path_(path), file_(std::fopen(path.c_str(), "w")) {
    if (!file_) throw std::runtime_error("cannot write acked log '" + path + "': " + std::strerror(errno));
}

void AckLog::write(std::string_view lines) {
    if (lines.empty()) return;
    std::lock_guard lock(mutex_);
    const bool ok =
        std::fwrite(lines.data(), 1, lines.size(), file_.get()) == lines.size() && std::fflush(file_.get()) == 0;
    if (!ok && !failed_) {
        failed_ = true;
        logger()->error("writing acked log '{}' failed: {}", path_, std::strerror(errno));
    }
}

void AckLines::add(std::string_view device_id, std::int64_t ts_ms) {
    if (!log_) return;
    buffer_.append(device_id);
    buffer_.push_back('\t');
    char digits[24];
    const auto printed = std::to_chars(digits, digits + sizeof digits, ts_ms);
    buffer_.append(digits, static_cast<std::size_t>(printed.ptr - digits));
    buffer_.push_back('\n');
}

void AckLines::flush(std::chrono::steady_clock::time_point now, bool force) {
    constexpr auto kInterval = std::chrono::seconds(1);
    constexpr std::size_t kBytes = 64 * 1024;
    if (buffer_.empty()) return;
    if (!force && buffer_.size() < kBytes && now - last_flush_ < kInterval) return;
    log_->write(buffer_);
    buffer_.clear();
    last_flush_ = now;
}

}  // namespace energyhub::sim
