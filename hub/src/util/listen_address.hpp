#pragma once
// Listen addresses and Host headers, for the config checks and the HTTP listener (no I/O).
#include <string>
#include <string_view>
#include <utility>

namespace energyhub {

// Splits "host:port" ("[::1]:8080" too); throws std::invalid_argument.
std::pair<std::string, int> parse_listen_address(const std::string& listen);

// Whether an HTTP Host header names the loopback interface (localhost, 127.0.0.0/8, [::1]), with
// or without a port.
bool is_loopback_host(std::string_view host);

}  // namespace energyhub
