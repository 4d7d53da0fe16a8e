#pragma once
// Free text people type into the registry (display names, device types, email addresses) ends up
// in email headers, HTML, JSON and logs. It is accepted only as valid UTF-8 without control
// characters and within a length, so nothing stored can break a message built from it.
#include <cstddef>
#include <string_view>

namespace energyhub {

constexpr std::size_t kMaxDisplayName = 80;  // characters
constexpr std::size_t kMaxEmailBytes = 254;  // RFC 5321's limit for a path

// Valid UTF-8 of at most `max_chars` characters, none of them a control character (C0, DEL, C1).
bool is_display_text(std::string_view text, std::size_t max_chars);

// The number of UTF-8 characters the text starts with that fit in `max_bytes` bytes: where to
// cut it without splitting a character. `text` must be valid UTF-8.
std::size_t utf8_prefix_bytes(std::string_view text, std::size_t max_bytes);

}  // namespace energyhub
