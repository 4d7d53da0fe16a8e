#pragma once
// Reasoning models (deepseek-r1) may return their reasoning inline as <think>…</think> before the
// answer: older servers ignore "think": false, and some models emit the block anyway, sometimes
// empty, sometimes without the opening tag. The answer is what follows the last </think>.
#include <string>
#include <string_view>

namespace energyhub::insights {

// The answer without reasoning, trimmed. A reply that opens <think> and never closes it was cut
// off inside the reasoning: it has no answer, so the result is empty.
std::string strip_think(std::string_view content);

// Removes a Markdown code fence around the whole text (```json … ```), which some models add
// around JSON even when asked for JSON only.
std::string strip_code_fence(std::string_view text);

}  // namespace energyhub::insights
