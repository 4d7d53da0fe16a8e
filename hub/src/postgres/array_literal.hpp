#pragma once
// Elements of PostgreSQL array literals ("{a,b}"), so that many values travel as one parameter
// (`$1::text[]`) and SQL text is never built from data.
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

namespace energyhub::postgres {

// A number, or NULL.
inline void append_array_element(std::string& out, const std::optional<double>& v) {
    if (out.size() > 1) out += ',';
    if (!v) {
        out += "NULL";
        return;
    }
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *v);
    out.append(buf, ec == std::errc{} ? end : buf);
}

// A quoted text element: the quotes keep an id such as "null" a string; a quote or backslash
// (never in a valid id or timestamp) is escaped all the same.
inline void append_array_element(std::string& out, std::string_view text) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (auto special = text.find_first_of("\"\\"); special != std::string_view::npos;
         special = text.find_first_of("\"\\")) {
        out.append(text.substr(0, special));
        out += '\\';
        out += text[special];
        text.remove_prefix(special + 1);
    }
    out += text;
    out += '"';
}

}  // namespace energyhub::postgres
