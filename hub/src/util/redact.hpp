#pragma once
// One redaction for every URI or connection string that reaches a log line or an error message:
// the password of "scheme://user:password@host..." and any "password=..." (a libpq key/value
// string, a query parameter) become "***". The user name and the host stay: they say where, and
// are no secret.
#include <string>
#include <string_view>

namespace energyhub {

std::string redact(std::string_view uri_or_dsn);

// Just "host:port" of a URL, never its user name, password, path or query.
std::string url_host(std::string_view url);

// Whether a URI carries a user name or password before its host ("scheme://user[:pw]@host").
bool has_userinfo(std::string_view uri);

}  // namespace energyhub
