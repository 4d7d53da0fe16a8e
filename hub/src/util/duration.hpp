#pragma once
// Human durations as used throughout the config: "500ms", "30s", "10m", "2h", "1d".
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace energyhub {

using Millis = std::chrono::milliseconds;

// Returns nullopt for anything that is not <digits><unit>.
std::optional<Millis> parse_duration(std::string_view text);

// Byte sizes: "512", "64KB", "256MB", "1GB" (powers of 1024).
std::optional<std::uint64_t> parse_byte_size(std::string_view text);

// "24h" style for messages and the usage command.
std::string format_duration(Millis d);

}  // namespace energyhub
