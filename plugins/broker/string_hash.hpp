#pragma once
// Hash for std::string keys that also accepts std::string_view, so lookups from the broker's
// C strings allocate nothing.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace energyhub::broker {

struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace energyhub::broker
