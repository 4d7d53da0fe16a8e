#include "pipeline/spool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <thread>

#include <spdlog/spdlog.h>

namespace energyhub {

namespace {

// Record header, host byte order (the spool never leaves this machine).
struct Header {
    std::uint32_t body_len;  // topic + payload
    std::uint32_t checksum;  // FNV-1a of header fields and body: detects a torn tail after a crash
    std::int64_t received_ms;
    std::uint16_t topic_len;
    std::uint16_t flags;  // kSpoolRetained; 0 in spools of older versions
};
static_assert(sizeof(Header) == 20 || sizeof(Header) == 24);
constexpr std::size_t kHeaderSize = 20;
constexpr std::uint32_t kMaxBody = 4u << 20;
constexpr std::size_t kReadChunk = 256 * 1024;
constexpr std::uint64_t kWindowBytes = 1 << 20;
// A consumer that found records at its last look polls this often instead of being woken per
// record (a wake-up costs the arrival thread a futex call); a pile this big wakes it sooner.
constexpr std::chrono::milliseconds kStreamPoll{1};
constexpr std::uint64_t kWakePile = 64;

std::uint32_t fnv1a(std::uint32_t h, const void* data, std::size_t len) {
    auto p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < len; ++i) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

// Flags are covered when set, so records of older versions (flags 0) keep their checksums.
std::uint32_t record_checksum(std::int64_t received_ms, std::string_view topic, std::string_view payload,
                              std::uint16_t flags) {
    std::uint32_t h = 2166136261u;
    h = fnv1a(h, &received_ms, sizeof received_ms);
    if (flags != 0) h = fnv1a(h, &flags, sizeof flags);
    h = fnv1a(h, topic.data(), topic.size());
    return fnv1a(h, payload.data(), payload.size());
}

void encode(const Header& h, char* out) {
    std::memcpy(out, &h.body_len, 4);
    std::memcpy(out + 4, &h.checksum, 4);
    std::memcpy(out + 8, &h.received_ms, 8);
    std::memcpy(out + 16, &h.topic_len, 2);
    std::memcpy(out + 18, &h.flags, 2);
}

Header decode(const char* in) {
    Header h{};
    std::memcpy(&h.body_len, in, 4);
    std::memcpy(&h.checksum, in + 4, 4);
    std::memcpy(&h.received_ms, in + 8, 8);
    std::memcpy(&h.topic_len, in + 16, 2);
    std::memcpy(&h.flags, in + 18, 2);
    return h;
}

[[noreturn]] void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

bool parse_segment_name(const std::filesystem::path& p, std::uint64_t& id) {
    auto name = p.filename().string();
    if (name.size() != 16 + 6 || name.substr(16) != ".spool") return false;
    return std::sscanf(name.c_str(), "%16" SCNx64, &id) == 1;
}

}  // namespace

Spool::Spool(std::filesystem::path dir, std::uint64_t segment_bytes, std::uint64_t max_bytes)
    : dir_(std::move(dir)),
      segment_bytes_(segment_bytes),
      max_bytes_(max_bytes),
      appender_(std::min(kWindowBytes, segment_bytes)),
      read_buffer_(kReadChunk) {
    std::filesystem::create_directories(dir_);
    auto checkpoint_path = dir_ / "checkpoint";
    checkpoint_fd_ = ::open(checkpoint_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (checkpoint_fd_ < 0) throw_errno("open " + checkpoint_path.string());
    std::uint64_t saved[2] = {0, 0};
    if (::pread(checkpoint_fd_, saved, sizeof saved, 0) == static_cast<ssize_t>(sizeof saved))
        committed_ = {saved[0], saved[1]};

    std::vector<std::uint64_t> ids;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
        std::uint64_t id;
        if (parse_segment_name(entry.path(), id)) ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    for (auto id : ids) {
        if (id < committed_.segment) std::filesystem::remove(segment_path(id));  // left by a crash mid-commit
    }
    std::erase_if(ids, [&](std::uint64_t id) { return id < committed_.segment; });
    if (ids.empty()) {
        std::uint64_t first = committed_.segment ? committed_.segment : 1;
        committed_ = {first, 0};
        ids.push_back(first);
    } else if (ids.front() > committed_.segment) {
        committed_ = {ids.front(), 0};
    }
    for (std::size_t i = 0; i + 1 < ids.size(); ++i) sizes_[ids[i]] = std::filesystem::file_size(segment_path(ids[i]));
    write_end_ = {ids.back(), recover_tail(ids.back())};
    open_for_append(ids.back());
    read_pos_ = committed_;
    replay_end_ = write_end_;
    auto pending = bytes_between(committed_, write_end_);
    if (pending > 0) spdlog::get("hub.spool")->info("replaying {} spooled bytes from {}", pending, dir_.string());
}

Spool::~Spool() {
    // The reserved space past the last record goes, so the segment ends where its records do.
    if (write_fd_ >= 0 && !appender_.cut_to_end())
        spdlog::get("hub.spool")->warn("cannot cut the spool's reserved tail: {}", std::strerror(errno));
    for (int fd : {write_fd_, read_fd_, checkpoint_fd_})
        if (fd >= 0) ::close(fd);
}

std::filesystem::path Spool::segment_path(std::uint64_t id) const {
    char name[32];
    std::snprintf(name, sizeof name, "%016" PRIx64 ".spool", id);
    return dir_ / name;
}

void Spool::open_for_append(std::uint64_t id) {
    if (write_fd_ >= 0) ::close(write_fd_);
    auto path = segment_path(id);
    write_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (write_fd_ < 0) throw_errno("open " + path.string());
    appender_.attach(write_fd_, write_end_.offset);
}

// The segment ends with its last record (the space reserved past it goes), so a restart takes a
// sealed segment's size from the file.
bool Spool::start_next_segment() {
    if (!appender_.cut_to_end()) return false;
    sizes_[write_end_.segment] = write_end_.offset;
    write_end_ = {write_end_.segment + 1, 0};
    open_for_append(write_end_.segment);
    return true;
}

// Scans a segment and cuts it after its last complete, intact record.
std::uint64_t Spool::recover_tail(std::uint64_t id) {
    auto path = segment_path(id);
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) throw_errno("open " + path.string());
    std::uint64_t good = 0;
    std::vector<char> body;
    char raw[kHeaderSize];
    bool reserved = false;  // zeros after the records: space reserved for the next ones, not a torn write
    for (;;) {
        if (::pread(fd, raw, kHeaderSize, static_cast<off_t>(good)) != static_cast<ssize_t>(kHeaderSize)) break;
        auto h = decode(raw);
        reserved = std::all_of(raw, raw + kHeaderSize, [](char c) { return c == 0; });
        if (h.body_len > kMaxBody || h.topic_len > h.body_len) break;
        body.resize(h.body_len);
        if (::pread(fd, body.data(), h.body_len, static_cast<off_t>(good + kHeaderSize)) !=
            static_cast<ssize_t>(h.body_len))
            break;
        std::string_view all(body.data(), body.size());
        if (record_checksum(h.received_ms, all.substr(0, h.topic_len), all.substr(h.topic_len), h.flags) != h.checksum)
            break;
        good += kHeaderSize + h.body_len;
    }
    auto size = std::filesystem::file_size(path);
    if (size != good) {
        if (!reserved)
            spdlog::get("hub.spool")->warn("cut {} torn bytes from the end of {}", size - good, path.string());
        if (::ftruncate(fd, static_cast<off_t>(good)) != 0) throw_errno("truncate " + path.string());
    }
    ::close(fd);
    return good;
}

std::uint64_t Spool::bytes_between(SpoolPosition from, SpoolPosition to) const {
    if (from.segment == to.segment) return to.offset - from.offset;
    std::uint64_t total = 0;
    for (auto it = sizes_.lower_bound(from.segment); it != sizes_.end() && it->first < to.segment; ++it)
        total += it->second;
    return total - from.offset + to.offset;
}

void Spool::append(std::int64_t received_ms, std::string_view topic, std::string_view payload, std::uint16_t flags) {
    Header h{};
    h.body_len = static_cast<std::uint32_t>(topic.size() + payload.size());
    h.topic_len = static_cast<std::uint16_t>(topic.size());
    h.flags = flags;
    h.received_ms = received_ms;
    h.checksum = record_checksum(received_ms, topic, payload, flags);
    char raw[kHeaderSize];
    encode(h, raw);
    const std::uint64_t record_size = kHeaderSize + h.body_len;

    std::unique_lock lock(mutex_);
    bool waited = false;
    for (;;) {
        if (closed_) {
            // Shutting down: never report this message as handled. It stays unacknowledged in the
            // MQTT session and comes back on the next start.
            ++parked_;
            room_.wait(lock, [] { return false; });
        }
        if (bytes_between(committed_, write_end_) + record_size > max_bytes_) {
            if (!waited) ++append_waits_;
            waited = true;
            room_.wait_for(lock, std::chrono::milliseconds(100));
            continue;
        }
        const bool next_segment = write_end_.offset > 0 && write_end_.offset + record_size > segment_bytes_;
        if ((!next_segment || start_next_segment()) && appender_.reserve(record_size)) break;
        // Disk full or I/O error: wait; the broker holds the rest.
        const int err = errno;
        if (!waited) {
            ++append_waits_;
            spdlog::get("hub.spool")
                ->error("spool write failed ({}); holding acknowledgements until it succeeds", std::strerror(err));
        }
        waited = true;
        room_.wait_for(lock, std::chrono::milliseconds(200));
    }
    appender_.append({std::string_view(raw, kHeaderSize), topic, payload});
    write_end_.offset += record_size;
    ++appended_records_;
    const bool wake = consumer_waiting_ && (!consumer_streaming_ || appended_records_ - records_at_wait_ >= kWakePile);
    lock.unlock();
    if (wake) appended_.notify_one();
}

bool Spool::fill_read_buffer(std::size_t need, std::uint64_t complete_end) {
    // Keeps [read_pos_.offset, +need) in the buffer. Bytes past complete_end may belong to a record
    // still being written, so they are never kept.
    if (read_pos_.offset >= read_buffer_offset_ && read_pos_.offset + need <= read_buffer_offset_ + read_buffer_len_)
        return true;
    if (need > read_buffer_.size()) read_buffer_.resize(need);
    auto n = ::pread(read_fd_, read_buffer_.data(), read_buffer_.size(), static_cast<off_t>(read_pos_.offset));
    if (n < 0) return false;
    read_buffer_offset_ = read_pos_.offset;
    read_buffer_len_ = static_cast<std::size_t>(
        std::min<std::uint64_t>(static_cast<std::uint64_t>(n), complete_end - read_pos_.offset));
    return read_buffer_len_ >= need;
}

// Takes the lock only once everything seen at the last look has been read: under a stream the
// consumer and the arrival thread rarely meet on it.
bool Spool::refresh_readable(std::chrono::milliseconds wait) {
    std::unique_lock lock(mutex_);
    auto has_data = [&] { return read_pos_.segment < write_end_.segment || read_pos_.offset < write_end_.offset; };
    if (!has_data() && wait.count() > 0) {
        const auto until = std::chrono::steady_clock::now() + wait;
        auto ready = [&] { return has_data() || closed_; };
        records_at_wait_ = appended_records_;
        consumer_waiting_ = true;
        if (consumer_streaming_) appended_.wait_for(lock, std::min(wait, kStreamPoll), ready);
        consumer_streaming_ = has_data();
        if (!consumer_streaming_) appended_.wait_until(lock, until, ready);  // idle: the first record wakes it
        consumer_waiting_ = false;
        consumer_streaming_ = has_data();
    }
    if (!has_data()) return false;
    if (read_pos_.segment < write_end_.segment && read_pos_.offset >= sizes_[read_pos_.segment]) {
        read_pos_ = {read_pos_.segment + 1, 0};
        if (read_fd_ >= 0) ::close(read_fd_);
        read_fd_ = -1;
        if (read_pos_ == write_end_) return false;
    }
    readable_end_ = read_pos_.segment < write_end_.segment ? SpoolPosition{read_pos_.segment, sizes_[read_pos_.segment]}
                                                           : write_end_;
    return true;
}

bool Spool::next(SpoolRecord& out, std::chrono::milliseconds wait) {
    if (read_pos_.segment != readable_end_.segment || read_pos_.offset >= readable_end_.offset) {
        if (!refresh_readable(wait)) return false;
    }
    const SpoolPosition end = readable_end_;
    if (read_fd_ < 0) {
        auto path = segment_path(read_pos_.segment);
        read_fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (read_fd_ < 0) throw_errno("open " + path.string());
        read_buffer_len_ = 0;
        read_buffer_offset_ = 0;
    }
    if (!fill_read_buffer(kHeaderSize, end.offset)) return false;
    auto h = decode(read_buffer_.data() + (read_pos_.offset - read_buffer_offset_));
    if (!fill_read_buffer(kHeaderSize + h.body_len, end.offset)) return false;
    const char* body = read_buffer_.data() + (read_pos_.offset - read_buffer_offset_) + kHeaderSize;
    out.received_ms = h.received_ms;
    out.flags = static_cast<std::uint16_t>(h.flags & ~kSpoolReplayed);
    if (read_pos_ < replay_end_) out.flags |= kSpoolReplayed;
    out.topic = std::string_view(body, h.topic_len);
    out.payload = std::string_view(body + h.topic_len, h.body_len - h.topic_len);
    read_pos_.offset += kHeaderSize + h.body_len;
    out.end = read_pos_;
    return true;
}

void Spool::peek_topics(std::size_t max, std::vector<std::string_view>& out) const {
    if (read_fd_ < 0 || read_pos_.offset < read_buffer_offset_) return;
    std::size_t at = read_pos_.offset - read_buffer_offset_;
    for (std::size_t n = 0; n < max && at + kHeaderSize <= read_buffer_len_; ++n) {
        auto h = decode(read_buffer_.data() + at);
        if (h.topic_len > h.body_len || at + kHeaderSize + h.body_len > read_buffer_len_) return;
        out.emplace_back(read_buffer_.data() + at + kHeaderSize, h.topic_len);
        at += kHeaderSize + h.body_len;
    }
}

void Spool::commit(SpoolPosition pos) {
    std::uint64_t saved[2] = {pos.segment, pos.offset};
    // One small pwrite: a process kill cannot tear it.
    if (::pwrite(checkpoint_fd_, saved, sizeof saved, 0) != static_cast<ssize_t>(sizeof saved))
        spdlog::get("hub.spool")->error("checkpoint write failed: {}", std::strerror(errno));
    std::vector<std::uint64_t> done;
    {
        std::lock_guard lock(mutex_);
        committed_ = pos;
        for (auto it = sizes_.begin(); it != sizes_.end() && it->first < pos.segment;) {
            done.push_back(it->first);
            it = sizes_.erase(it);
        }
    }
    room_.notify_all();
    for (auto id : done) {
        std::error_code ec;
        std::filesystem::remove(segment_path(id), ec);
    }
}

bool Spool::drained() const {
    std::lock_guard lock(mutex_);  // read_pos_ is the consumer's own; write_end_ needs the lock
    return read_pos_.segment == write_end_.segment && read_pos_.offset == write_end_.offset;
}

void Spool::close() {
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
    }
    appended_.notify_all();
}

std::size_t Spool::parked_appenders() const {
    std::lock_guard lock(mutex_);
    return parked_;
}

SpoolStats Spool::stats() const {
    std::lock_guard lock(mutex_);
    auto pending = bytes_between(committed_, write_end_);
    return {pending, appended_records_, append_waits_, pending >= max_bytes_};
}

}  // namespace energyhub
