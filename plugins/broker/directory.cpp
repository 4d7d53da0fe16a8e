#include "broker/directory.hpp"

namespace energyhub::broker {

namespace {
const std::shared_ptr<const Directory::Map>& empty_shard() {
    static const auto empty = std::make_shared<const Directory::Map>();
    return empty;
}
}  // namespace

std::size_t Directory::shard_of(std::string_view name) {
    // Not the map's own hash: its low bits pick the bucket inside the shard.
    std::size_t h = 14695981039346656037ull;
    for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
    return h % kShards;
}

Directory::Directory() { shards_.fill(empty_shard()); }

Directory::Directory(Map all) {
    std::array<Map, kShards> parts;
    size_ = all.size();
    while (!all.empty()) {
        auto node = all.extract(all.begin());
        parts[shard_of(node.key())].insert(std::move(node));
    }
    for (std::size_t i = 0; i < kShards; ++i) shards_[i] = std::make_shared<const Map>(std::move(parts[i]));
}

const Principal* Directory::find(std::string_view name) const {
    const auto& shard = *shards_[shard_of(name)];
    auto it = shard.find(name);
    return it == shard.end() ? nullptr : &it->second;
}

std::shared_ptr<const Directory> Directory::apply(const std::vector<Change>& changes, std::vector<std::string>* revoked) const {
    auto next = std::make_shared<Directory>(*this);  // shares every shard
    std::array<std::shared_ptr<Map>, kShards> copied;
    for (const auto& change : changes) {
        auto s = shard_of(change.name);
        if (!copied[s]) {
            copied[s] = std::make_shared<Map>(*shards_[s]);
        }
        auto& shard = *copied[s];
        auto it = shard.find(change.name);
        if (it != shard.end()) {
            if (revoked && (!change.principal || !it->second.same_access(*change.principal))) revoked->push_back(change.name);
            if (change.principal) {
                it->second = *change.principal;
            } else {
                shard.erase(it);
                --next->size_;
            }
        } else if (change.principal) {
            shard.emplace(change.name, *change.principal);
            ++next->size_;
        }
    }
    for (std::size_t i = 0; i < kShards; ++i) {
        if (copied[i]) next->shards_[i] = std::move(copied[i]);
    }
    return next;
}

std::vector<std::string> Directory::revoked_in(const Directory& next) const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < kShards; ++i) {
        if (shards_[i] == next.shards_[i]) continue;
        for (const auto& [name, principal] : *shards_[i]) {
            const auto* now = next.find(name);
            if (!now || !now->same_access(principal)) out.push_back(name);
        }
    }
    return out;
}

}  // namespace energyhub::broker
