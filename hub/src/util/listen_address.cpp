#include "util/listen_address.hpp"

#include <charconv>
#include <stdexcept>

namespace energyhub {

bool is_loopback_host(std::string_view host) {
    // Drop the port: "[::1]:8080", "127.0.0.1:8080", "localhost:8080".
    if (!host.empty() && host.front() == '[') {
        const auto close = host.find(']');
        if (close == std::string_view::npos) return false;
        const auto rest = host.substr(close + 1);
        return host.substr(1, close - 1) == "::1" && (rest.empty() || rest.front() == ':');
    }
    if (const auto colon = host.rfind(':'); colon != std::string_view::npos) host = host.substr(0, colon);
    if (host == "localhost") return true;
    if (host.substr(0, 4) != "127.") return false;
    int dots = 0;
    for (char c : host) {
        if (c == '.')
            ++dots;
        else if (c < '0' || c > '9')
            return false;
    }
    return dots == 3;
}

std::pair<std::string, int> parse_listen_address(const std::string& listen) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0)
        throw std::invalid_argument("listen address must be host:port: " + listen);
    std::string host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    int port = -1;
    auto p = listen.substr(colon + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc{} || end != p.data() + p.size() || port < 0 || port > 65535)
        throw std::invalid_argument("bad port in listen address: " + listen);
    return {host, port};
}

}  // namespace energyhub
