#pragma once
// Appends to a file through a mapped window of it: a memcpy per record and a few syscalls per
// window instead of a write() per record. What is copied is in the page cache at once, so it
// survives a kill of the process just as a write() would. Space is reserved (posix_fallocate)
// before it is mapped: a full disk then fails reserve() instead of killing the process with
// SIGBUS on a store into a page the file system cannot back. Until cut_to_end(), the file ends
// with the reserved zeros, which a reader after a kill must take for the end of the records.
#include <cstdint>
#include <initializer_list>
#include <string_view>

namespace energyhub {

class MappedAppender {
public:
    explicit MappedAppender(std::uint64_t window_bytes);
    ~MappedAppender() { detach(); }
    MappedAppender(const MappedAppender&) = delete;
    MappedAppender& operator=(const MappedAppender&) = delete;

    // Appends to `fd` (opened for reading and writing) after its first `end` bytes.
    void attach(int fd, std::uint64_t end);
    void detach();  // unmaps; the file keeps what was reserved

    // Room for `bytes` more, reserved and mapped; false (errno set) when the disk refuses.
    bool reserve(std::uint64_t bytes);
    // Copies the parts after the end; reserve() must have made room for all of them.
    void append(std::initializer_list<std::string_view> parts);
    // Cuts the file after the last record (the reserved space goes); false (errno set) on failure.
    bool cut_to_end();

    std::uint64_t end() const { return end_; }

private:
    const std::uint64_t window_bytes_;
    int fd_ = -1;
    std::uint64_t end_ = 0;
    char* window_ = nullptr;  // [window_start_, +window_len_) of the file
    std::uint64_t window_start_ = 0;
    std::uint64_t window_len_ = 0;
};

}  // namespace energyhub
