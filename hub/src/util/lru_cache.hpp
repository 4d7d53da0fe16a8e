#pragma once
// A bounded least-recently-used map. Not thread-safe: each pipeline worker owns one.
//
// One hash node per entry holds the key, the value and the recency links: a key is stored once and
// an entry costs one allocation (a separate list would hold a second copy of every key, in a
// second node). Node addresses are stable across rehashing, so the links stay valid.
#include <cstddef>
#include <unordered_map>
#include <utility>

namespace energyhub {

template <typename Key, typename Value, typename Hash = std::hash<Key>>
class LruCache {
public:
    // The index grows with the entries: a home's twenty devices do not pay for a capacity of 200,000.
    explicit LruCache(std::size_t capacity) : capacity_(capacity ? capacity : 1) {}
    LruCache(const LruCache&) = delete;
    LruCache& operator=(const LruCache&) = delete;

    // Returns nullptr on a miss; a hit becomes the most recently used entry.
    Value* find(const Key& key) {
        auto it = index_.find(key);
        if (it == index_.end()) return nullptr;
        touch(&*it);
        return &it->second.value;
    }

    Value& put(const Key& key, Value value) {
        if (auto* existing = find(key)) {
            *existing = std::move(value);
            return *existing;
        }
        if (index_.size() >= capacity_) erase_entry(oldest_);
        auto [it, inserted] = index_.try_emplace(key, Node{std::move(value), nullptr, nullptr});
        link_front(&*it);
        return it->second.value;
    }

    bool erase(const Key& key) {
        auto it = index_.find(key);
        if (it == index_.end()) return false;
        erase_entry(&*it);
        return true;
    }

    // Calls f(key, value) for every entry, least recent first, without touching their recency.
    template <typename F>
    void for_each(F&& f) {
        for (Entry* e = oldest_; e; e = e->second.newer) f(e->first, e->second.value);
    }

    void clear() {
        index_.clear();
        newest_ = oldest_ = nullptr;
    }

    std::size_t size() const { return index_.size(); }
    std::size_t capacity() const { return capacity_; }

private:
    struct Node;
    using Entry = std::pair<const Key, Node>;
    struct Node {
        Value value;
        Entry* newer;
        Entry* older;
    };

    void unlink(Entry* e) {
        auto& n = e->second;
        (n.newer ? n.newer->second.older : newest_) = n.older;
        (n.older ? n.older->second.newer : oldest_) = n.newer;
    }
    void link_front(Entry* e) {
        e->second.newer = nullptr;
        e->second.older = newest_;
        (newest_ ? newest_->second.newer : oldest_) = e;
        newest_ = e;
    }
    void touch(Entry* e) {
        if (e == newest_) return;
        unlink(e);
        link_front(e);
    }
    void erase_entry(Entry* e) {
        unlink(e);
        index_.erase(index_.find(e->first));  // by position: the key argument would live in the node
    }

    std::size_t capacity_;
    std::unordered_map<Key, Node, Hash> index_;
    Entry* newest_ = nullptr;
    Entry* oldest_ = nullptr;
};

}  // namespace energyhub
