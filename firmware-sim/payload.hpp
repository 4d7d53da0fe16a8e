#pragma once
// The native reading payload, built into a caller-owned buffer: the publish loop reuses one buffer
// per thread and allocates nothing per message.
#include <array>
#include <cstdint>
#include <string_view>

#include "profiles.hpp"

namespace energyhub::sim {

// The longest payload (13-digit ts, counters in the billions of Wh) is about 110 characters.
constexpr std::size_t kPayloadCapacity = 192;
using PayloadBuffer = std::array<char, kPayloadCapacity>;

// {"ts":<epoch ms>,"power_w":<0.1>,"energy_wh":<0.001>,"voltage_v":<0.1>,"current_a":<0.001>}
// The view points into buffer and is valid until the next call with the same buffer.
std::string_view format_native(PayloadBuffer& buffer, std::int64_t ts_ms, const Sample& sample);

}  // namespace energyhub::sim
