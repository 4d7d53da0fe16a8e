#pragma once
// The acknowledged-readings log: one "device_id<TAB>ts_ms" line per reading the broker confirmed.
// Tests compare it with what the hub stored, so a line is written only after its acknowledgement.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace energyhub::sim {

class AckLog {
public:
    // Creates or truncates the file; throws std::runtime_error naming it when that fails.
    explicit AckLog(const std::string& path);

    // Appends whole lines from one thread's buffer and hands them to the kernel at once, so a
    // simulator killed later has lost none of the lines it wrote. Thread-safe.
    void write(std::string_view lines);

private:
    struct FileCloser {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };

    std::string path_;
    std::mutex mutex_;
    std::unique_ptr<std::FILE, FileCloser> file_;
    bool failed_ = false;  // report a write error once, not once per flush
};

// One engine's acknowledged lines, handed to the log in chunks: at least every second, or when
// 64 KB have piled up. A null log takes nothing.
class AckLines {
public:
    explicit AckLines(AckLog* log) : log_(log) {}
    void add(std::string_view device_id, std::int64_t ts_ms);
    void flush(std::chrono::steady_clock::time_point now, bool force);

private:
    AckLog* log_;
    std::string buffer_;
    std::chrono::steady_clock::time_point last_flush_{};
};

}  // namespace energyhub::sim
