#pragma once
// A bounded least-recently-used map. Not thread-safe: each pipeline worker owns one.
//
// Entries live in blocks that never move (a value's address holds until its entry goes), linked in
// recency order by 32-bit numbers; an open-addressing index of 32-bit entry numbers finds them. An
// entry costs its key, its value, three 32-bit words and about 10 bytes of index, and no allocation
// of its own: a node-based map paid about 24 bytes more per entry (a next pointer, a cached hash,
// 64-bit links, malloc's header), 2.4 MB at the 100,000 devices of a fleet hub.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace energyhub {

template <typename Key, typename Value, typename Hash = std::hash<Key>>
class LruCache {
public:
    // Beyond this many entries, a 32-bit entry number would not do.
    static constexpr std::size_t kMaxCapacity = std::size_t{1} << 30;

    // Blocks and index grow with the entries: a home's twenty devices do not pay for a capacity of
    // 200,000.
    explicit LruCache(std::size_t capacity)
        : capacity_(std::clamp<std::size_t>(capacity, 1, kMaxCapacity)), index_(kMinIndex, kNone) {}
    LruCache(const LruCache&) = delete;
    LruCache& operator=(const LruCache&) = delete;

    // Returns nullptr on a miss; a hit becomes the most recently used entry.
    Value* find(const Key& key) {
        const std::uint32_t n = index_[bucket(key, hash_of(key))];
        if (n == kNone) return nullptr;
        touch(n);
        return &at(n).value;
    }

    Value& put(const Key& key, Value value) {
        const std::uint32_t h = hash_of(key);
        std::size_t b = bucket(key, h);
        if (const std::uint32_t n = index_[b]; n != kNone) {
            touch(n);
            return at(n).value = std::move(value);
        }
        if (size_ >= capacity_) {
            erase_entry(oldest_);
            b = bucket(key, h);  // the deletion may have moved entries within the index
        }
        if ((size_ + 1) * 2 > index_.size()) {
            grow();
            b = bucket(key, h);
        }
        const std::uint32_t n = allocate();
        Entry& e = at(n);
        e.key = key;
        e.value = std::move(value);
        e.hash = h;
        index_[b] = n;
        ++size_;
        link_front(n);
        return e.value;
    }

    bool erase(const Key& key) {
        const std::uint32_t n = index_[bucket(key, hash_of(key))];
        if (n == kNone) return false;
        erase_entry(n);
        return true;
    }

    // Calls f(key, value) for every entry, least recent first, without touching their recency.
    template <typename F>
    void for_each(F&& f) {
        for (std::uint32_t n = oldest_; n != kNone; n = at(n).newer) f(at(n).key, at(n).value);
    }

    void clear() {
        blocks_.clear();
        index_.assign(kMinIndex, kNone);
        size_ = used_ = 0;
        free_ = newest_ = oldest_ = kNone;
    }

    std::size_t size() const { return size_; }
    std::size_t capacity() const { return capacity_; }

private:
    static constexpr std::uint32_t kNone = UINT32_MAX;
    static constexpr std::size_t kMinIndex = 16;  // a power of two, as the index stays
    static constexpr unsigned kBlockShift = 8;    // 256 entries a block
    static constexpr std::size_t kBlock = std::size_t{1} << kBlockShift;

    struct Entry {
        Key key{};
        Value value{};
        std::uint32_t hash = 0;
        std::uint32_t newer = kNone;
        std::uint32_t older = kNone;  // of a free entry: the next free one
    };

    static std::uint32_t hash_of(const Key& key) {
        const std::uint64_t h = Hash{}(key);
        return static_cast<std::uint32_t>(h ^ (h >> 32));
    }
    Entry& at(std::uint32_t n) { return blocks_[n >> kBlockShift][n & (kBlock - 1)]; }
    std::size_t mask() const { return index_.size() - 1; }

    // Where the key is in the index, or the empty bucket where it would go (linear probing; the
    // index is at most half full, so an empty bucket is always met).
    std::size_t bucket(const Key& key, std::uint32_t h) {
        for (std::size_t b = h & mask();; b = (b + 1) & mask()) {
            const std::uint32_t n = index_[b];
            if (n == kNone) return b;
            if (const Entry& e = at(n); e.hash == h && e.key == key) return b;
        }
    }

    void grow() {
        index_.assign(index_.size() * 2, kNone);
        for (std::uint32_t n = oldest_; n != kNone; n = at(n).newer) {
            std::size_t b = at(n).hash & mask();
            while (index_[b] != kNone) b = (b + 1) & mask();
            index_[b] = n;
        }
    }

    std::uint32_t allocate() {
        if (free_ != kNone) return std::exchange(free_, at(free_).older);
        if ((used_ & (kBlock - 1)) == 0) blocks_.push_back(std::make_unique<Entry[]>(kBlock));
        return static_cast<std::uint32_t>(used_++);
    }

    void erase_entry(std::uint32_t n) {
        Entry& e = at(n);
        std::size_t hole = e.hash & mask();
        while (index_[hole] != n) hole = (hole + 1) & mask();
        // Backward-shift deletion: each later entry of the run moves into the hole unless that
        // would put it before its home bucket, so probing never stops short of an entry.
        for (std::size_t j = (hole + 1) & mask(); index_[j] != kNone; j = (j + 1) & mask()) {
            const std::size_t home = at(index_[j]).hash & mask();
            if (((j - home) & mask()) >= ((j - hole) & mask())) {
                index_[hole] = index_[j];
                hole = j;
            }
        }
        index_[hole] = kNone;
        unlink(n);
        // What the entry held is released now, not when the entry is reused.
        std::destroy_at(&e.key);
        std::construct_at(&e.key);
        std::destroy_at(&e.value);
        std::construct_at(&e.value);
        e.older = free_;
        free_ = n;
        --size_;
    }

    void unlink(std::uint32_t n) {
        Entry& e = at(n);
        (e.newer != kNone ? at(e.newer).older : newest_) = e.older;
        (e.older != kNone ? at(e.older).newer : oldest_) = e.newer;
    }
    void link_front(std::uint32_t n) {
        Entry& e = at(n);
        e.newer = kNone;
        e.older = newest_;
        (newest_ != kNone ? at(newest_).newer : oldest_) = n;
        newest_ = n;
    }
    void touch(std::uint32_t n) {
        if (n == newest_) return;
        unlink(n);
        link_front(n);
    }

    std::size_t capacity_;
    std::vector<std::unique_ptr<Entry[]>> blocks_;
    std::vector<std::uint32_t> index_;  // entry numbers, kNone where empty; a power of two long
    std::size_t size_ = 0;
    std::size_t used_ = 0;  // entries handed out from the blocks so far
    std::uint32_t free_ = kNone;
    std::uint32_t newest_ = kNone;
    std::uint32_t oldest_ = kNone;
};

}  // namespace energyhub
