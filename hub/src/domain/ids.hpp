#pragma once
#include <string_view>

namespace energyhub {

// User and device ids: [A-Za-z0-9_.-]{1,64}. Channels of multi-channel devices add ":<n>".
constexpr std::size_t kMaxIdLength = 64;

constexpr bool is_id_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

constexpr bool is_valid_id(std::string_view id) {
    if (id.empty() || id.size() > kMaxIdLength) return false;
    for (char c : id) {
        if (!is_id_char(c)) return false;
    }
    return true;
}

}  // namespace energyhub
