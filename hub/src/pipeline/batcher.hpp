#pragma once
// Collects items for one write and says when to write: when the batch is full, or when its oldest
// item has waited `max_wait_ms`. Slots are reused from batch to batch, so a steady stream does not
// allocate. Time comes from the caller (an injectable clock).
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace energyhub {

template <typename T>
class Batcher {
public:
    Batcher(std::size_t capacity, std::int64_t max_wait_ms) : slots_(std::max<std::size_t>(1, capacity)), max_wait_ms_(max_wait_ms) {}

    // The slot the next item is built in; it joins the batch only with add().
    T& slot() { return slots_[size_]; }

    // Adds the item built in slot(). `now_ms` is a steady time; the first item starts the clock.
    void add(std::int64_t now_ms) {
        if (size_ == 0) due_ms_ = now_ms + max_wait_ms_;
        ++size_;
    }

    bool empty() const { return size_ == 0; }
    bool full() const { return size_ == slots_.size(); }
    std::size_t size() const { return size_; }
    std::size_t capacity() const { return slots_.size(); }
    bool due(std::int64_t now_ms) const { return size_ > 0 && (full() || now_ms >= due_ms_); }

    // How long a caller may wait for more items before the batch is due.
    std::int64_t wait_ms(std::int64_t now_ms, std::int64_t idle_wait_ms) const {
        if (size_ == 0) return idle_wait_ms;
        return std::max<std::int64_t>(0, due_ms_ - now_ms);
    }

    std::span<const T> items() const { return {slots_.data(), size_}; }
    std::span<T> items() { return {slots_.data(), size_}; }
    void clear() { size_ = 0; }

private:
    std::vector<T> slots_;
    std::size_t size_ = 0;
    std::int64_t max_wait_ms_;
    std::int64_t due_ms_ = 0;
};

}  // namespace energyhub
