#include "util/redact.hpp"

#include <cctype>

namespace energyhub {

namespace {

constexpr std::string_view kMask = "***";
constexpr std::string_view kPasswordKey = "password=";

// [begin, end) of the userinfo of a URI (before its '@'), or npos.
std::pair<std::size_t, std::size_t> userinfo(std::string_view uri) {
    const auto scheme = uri.find("://");
    if (scheme == std::string_view::npos) return {std::string_view::npos, std::string_view::npos};
    const auto begin = scheme + 3;
    const auto authority_end = uri.find_first_of("/?#", begin);
    const auto authority = uri.substr(begin, authority_end == std::string_view::npos ? std::string_view::npos : authority_end - begin);
    const auto at = authority.rfind('@');
    if (at == std::string_view::npos) return {std::string_view::npos, std::string_view::npos};
    return {begin, begin + at};
}

bool starts_with_ci(std::string_view s, std::size_t at, std::string_view word) {
    if (s.size() - at < word.size()) return false;
    for (std::size_t i = 0; i < word.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[at + i])) != word[i]) return false;
    return true;
}

}  // namespace

bool has_userinfo(std::string_view uri) { return userinfo(uri).first != std::string_view::npos; }

std::string redact(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    const auto [user_begin, user_end] = userinfo(in);
    std::size_t i = 0;
    while (i < in.size()) {
        if (i == user_begin) {
            const auto info = in.substr(user_begin, user_end - user_begin);
            const auto colon = info.find(':');
            out.append(info.substr(0, colon));
            if (colon != std::string_view::npos) out.append(":").append(kMask);
            i = user_end;
            continue;
        }
        // "password=..." up to the next separator, wherever it stands (key/value DSN, query).
        const bool at_word = i == 0 || !(std::isalnum(static_cast<unsigned char>(in[i - 1])) || in[i - 1] == '_');
        if (at_word && starts_with_ci(in, i, kPasswordKey)) {
            out.append(in.substr(i, kPasswordKey.size())).append(kMask);
            i += kPasswordKey.size();
            if (i < in.size() && (in[i] == '\'' || in[i] == '"')) {  // a quoted libpq value
                const char quote = in[i];
                const auto close = in.find(quote, i + 1);
                i = close == std::string_view::npos ? in.size() : close + 1;
            } else {
                while (i < in.size() && in[i] != '&' && in[i] != ' ' && in[i] != '#') ++i;
            }
            continue;
        }
        out.push_back(in[i++]);
    }
    return out;
}

std::string url_host(std::string_view url) {
    if (auto start = url.find("://"); start != std::string_view::npos) url.remove_prefix(start + 3);
    // The last '@' anywhere: a password may hold '/' or '?' typed raw, and must never show.
    if (auto at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
    return std::string(url.substr(0, url.find_first_of("/?")));
}

}  // namespace energyhub
