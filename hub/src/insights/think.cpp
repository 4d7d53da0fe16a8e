#include "insights/think.hpp"

namespace energyhub::insights {

namespace {

constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";

std::string_view trim(std::string_view s) {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

}  // namespace

std::string strip_think(std::string_view content) {
    if (auto close = content.rfind(kClose); close != std::string_view::npos)
        return std::string(trim(content.substr(close + kClose.size())));
    std::string_view text = trim(content);
    if (text.substr(0, kOpen.size()) == kOpen) return {};
    return std::string(text);
}

std::string strip_code_fence(std::string_view text) {
    std::string_view t = trim(text);
    if (t.size() < 6 || t.substr(0, 3) != "```" || t.substr(t.size() - 3) != "```") return std::string(t);
    t.remove_suffix(3);
    const auto newline = t.find('\n');
    if (newline == std::string_view::npos) return std::string(trim(text));
    // The opening fence may name a language: ```json
    return std::string(trim(t.substr(newline + 1)));
}

}  // namespace energyhub::insights
