#include "util/mapped_appender.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace energyhub {

namespace {

std::uint64_t page_size() {
    static const auto size = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    return size;
}

std::uint64_t round_up(std::uint64_t n, std::uint64_t to) { return (n + to - 1) / to * to; }

}  // namespace

MappedAppender::MappedAppender(std::uint64_t window_bytes) : window_bytes_(round_up(window_bytes, page_size())) {}

void MappedAppender::attach(int fd, std::uint64_t end) {
    detach();
    fd_ = fd;
    end_ = end;
}

void MappedAppender::detach() {
    if (window_) ::munmap(window_, window_len_);
    window_ = nullptr;
}

bool MappedAppender::reserve(std::uint64_t bytes) {
    if (window_ && end_ + bytes <= window_start_ + window_len_) return true;  // the window starts at or before end_
    detach();
    const std::uint64_t start = end_ / page_size() * page_size();
    const std::uint64_t len = round_up(std::max(end_ + bytes - start, window_bytes_), page_size());
    if (int err = ::posix_fallocate(fd_, static_cast<off_t>(start), static_cast<off_t>(len)); err != 0) {
        errno = err;
        return false;
    }
    void* at = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, static_cast<off_t>(start));
    if (at == MAP_FAILED) return false;
    window_ = static_cast<char*>(at);
    window_start_ = start;
    window_len_ = len;
    return true;
}

void MappedAppender::append(std::initializer_list<std::string_view> parts) {
    char* at = window_ + (end_ - window_start_);
    for (auto part : parts) {
        std::memcpy(at, part.data(), part.size());
        at += part.size();
    }
    end_ = window_start_ + static_cast<std::uint64_t>(at - window_);
}

bool MappedAppender::cut_to_end() {
    detach();
    return ::ftruncate(fd_, static_cast<off_t>(end_)) == 0;
}

}  // namespace energyhub
