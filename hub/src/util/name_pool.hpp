#pragma once
// Names that many entries share (owners, device types, time zones), each kept once: an entry holds
// a pointer, 8 bytes instead of a string of its own. Names are never dropped (there are far fewer
// than devices, and a pointer handed out stays valid). Not thread-safe: one per component.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>

namespace energyhub {

class NamePool {
public:
    // The pooled copy of `name`; the empty name is always the same one.
    const std::string* intern(std::string_view name) {
        if (name.empty()) return &empty_;
        auto it = names_.find(name);
        if (it == names_.end()) it = names_.emplace(name).first;
        return &*it;
    }
    static const std::string* empty() { return &empty_; }

private:
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    inline static const std::string empty_;
    std::unordered_set<std::string, Hash, std::equal_to<>> names_;
};

}  // namespace energyhub
