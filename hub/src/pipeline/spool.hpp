#pragma once
// The on-disk queue between the MQTT arrival callback and the database writer.
//
// The callback copies each message into a mapped window of the segment file before it returns
// (util/mapped_appender.hpp: a few syscalls per megabyte, not one per message), so once the broker
// has been told "received", the message is in the page cache and survives a kill of the hub. The
// writer reads records in order and commits a position once they are stored (or rejected); on
// start the records after the last committed position are replayed. Storage is idempotent, so a
// replayed record that had in fact been stored is stored once.
//
// Bounded: when the uncommitted bytes reach the limit, or the disk refuses a write, append() waits.
// The MQTT client then stops acknowledging, and the broker keeps the messages (backpressure).
#include <atomic>
#include <chrono>
#include <compare>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/message_lookahead.hpp"
#include "util/mapped_appender.hpp"

namespace energyhub {

struct SpoolPosition {
    std::uint64_t segment = 0;
    std::uint64_t offset = 0;
    friend auto operator<=>(const SpoolPosition&, const SpoolPosition&) = default;  // segment, then offset
};

// Record flags.
constexpr std::uint16_t kSpoolRetained = 1;  // the broker replayed it from its retained store
// Set by next() only, never stored: the record was appended before this start (a replay).
constexpr std::uint16_t kSpoolReplayed = 0x8000;

struct SpoolRecord {
    std::int64_t received_ms = 0;
    std::uint16_t flags = 0;
    std::string_view topic;    // valid until the next call to next()
    std::string_view payload;  // valid until the next call to next()
    SpoolPosition end;         // commit this once the record is dealt with
};

struct SpoolStats {
    std::uint64_t pending_bytes = 0;  // appended, not yet committed
    std::uint64_t appended_records = 0;
    std::uint64_t append_waits = 0;  // times the callback had to wait (full or write error)
    bool full = false;
};

class Spool final : public MessageLookahead {
public:
    // Opens (creating the folder) and recovers: a torn record at the tail is cut off. Throws
    // std::system_error on I/O failure.
    Spool(std::filesystem::path dir, std::uint64_t segment_bytes, std::uint64_t max_bytes);
    ~Spool();
    Spool(const Spool&) = delete;
    Spool& operator=(const Spool&) = delete;

    // Producer side (the MQTT thread). Returns once the record is written. Waits while the spool is
    // full or the disk refuses the write; after close() it waits for good, so a message is never
    // reported as handled when it was not written.
    void append(std::int64_t received_ms, std::string_view topic, std::string_view payload, std::uint16_t flags = 0);

    // Consumer side (one thread). Waits up to `wait` for a record; false if none arrived.
    bool next(SpoolRecord& out, std::chrono::milliseconds wait);

    // Consumer side: the topics of records after the one next() returned last, as far as they are
    // already in the read buffer (no I/O, no lock: the buffer holds complete records only).
    void peek_topics(std::size_t max, std::vector<std::string_view>& out) const override;

    // Everything before `pos` is stored or rejected.
    void commit(SpoolPosition pos);

    // True when every appended record has been read. Consumer thread only.
    bool drained() const;

    // Blocks new appends for good and wakes a waiting consumer.
    void close();

    // Appenders parked for good on the closed spool (their messages stay unacknowledged).
    std::size_t parked_appenders() const;

    SpoolStats stats() const;

private:
    struct Segment;
    std::filesystem::path segment_path(std::uint64_t id) const;
    void open_for_append(std::uint64_t id);
    bool start_next_segment();  // caller holds mutex_; false (errno) if the old one cannot be cut
    bool refresh_readable(std::chrono::milliseconds wait);
    std::uint64_t recover_tail(std::uint64_t id);
    std::uint64_t bytes_between(SpoolPosition from, SpoolPosition to) const;  // caller holds mutex_
    bool fill_read_buffer(std::size_t need, std::uint64_t complete_end);

    std::filesystem::path dir_;
    std::uint64_t segment_bytes_;
    std::uint64_t max_bytes_;

    mutable std::mutex mutex_;
    std::condition_variable appended_;  // consumer waits for data
    std::condition_variable room_;      // producer waits for room
    bool closed_ = false;
    bool consumer_waiting_ = false;
    bool consumer_streaming_ = false;  // its last wait found records: it polls, woken only for a pile
    std::uint64_t records_at_wait_ = 0;
    int write_fd_ = -1;
    MappedAppender appender_;  // into write_fd_'s segment, its end at write_end_.offset
    int checkpoint_fd_ = -1;
    SpoolPosition write_end_;                       // end of the last complete record
    SpoolPosition committed_;                       // persisted in the checkpoint file
    std::map<std::uint64_t, std::uint64_t> sizes_;  // sealed segment -> size
    std::uint64_t appended_records_ = 0;
    std::uint64_t append_waits_ = 0;
    std::size_t parked_ = 0;

    // Consumer state, touched only by the consumer thread.
    int read_fd_ = -1;
    SpoolPosition read_pos_;         // next record starts here
    SpoolPosition readable_end_;     // in read_pos_'s segment: what could be read at the last look
    SpoolPosition replay_end_;       // end of what the previous run appended
    std::vector<char> read_buffer_;  // bytes of the read segment from read_buffer_offset_
    std::uint64_t read_buffer_offset_ = 0;
    std::size_t read_buffer_len_ = 0;
};

}  // namespace energyhub
