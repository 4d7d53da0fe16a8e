#include "config/section.hpp"

#include <cmath>
#include <cstdlib>
#include <sstream>

#include "config/config.hpp"
#include "util/duration.hpp"

namespace energyhub {

Section::Section(const YAML::Node& node, std::string path, const std::string& source)
    : node_(node), path_(std::move(path)), source_(source) {
    if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap()) fail(node_, path_, "must be a mapping");
}

void Section::fail(const YAML::Node& at, const std::string& key, const std::string& problem) const {
    std::ostringstream msg;
    msg << source_;
    if (at.IsDefined() && at.Mark().line >= 0) msg << ':' << at.Mark().line + 1;
    msg << ": " << key << ": " << problem;
    throw ConfigError(msg.str());
}

YAML::Node Section::child(const std::string& key) {
    known_.insert(key);
    if (!node_.IsDefined() || !node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& map = node_;  // const lookup never inserts
    return map[key];
}

void Section::string(const std::string& key, std::string& out) {
    auto n = child(key);
    if (!n.IsDefined()) return;
    if (!n.IsScalar()) fail(n, key_path(key), "must be a string");
    out = expand_env(n, key, n.Scalar());
}

bool Section::read_integer(const std::string& key, long long& v, long long min, long long max) {
    auto n = child(key);
    if (!n.IsDefined()) return false;
    try {
        if (!n.IsScalar()) throw YAML::Exception(n.Mark(), "");
        v = n.as<long long>();
    } catch (const YAML::Exception&) {
        fail(n, key_path(key), "must be an integer");
    }
    if (v < min || v > max)
        fail(n, key_path(key), "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return true;
}

void Section::number(const std::string& key, double& out, double min) {
    auto n = child(key);
    if (!n.IsDefined()) return;
    double v = 0;
    try {
        if (!n.IsScalar()) throw YAML::Exception(n.Mark(), "");
        v = n.as<double>();
    } catch (const YAML::Exception&) {
        fail(n, key_path(key), "must be a number");
    }
    // YAML reads ".inf" and ".nan" as numbers; no rate, threshold or price can be either.
    if (!std::isfinite(v)) fail(n, key_path(key), "must be a finite number");
    if (!(v >= min)) {
        std::ostringstream bound;
        bound << min;
        fail(n, key_path(key), "must be at least " + bound.str());
    }
    out = v;
}

void Section::duration(const std::string& key, std::chrono::milliseconds& out, bool allow_zero) {
    auto n = child(key);
    if (!n.IsDefined()) return;
    auto d = n.IsScalar() ? parse_duration(expand_env(n, key, n.Scalar())) : std::nullopt;
    if (!d) fail(n, key_path(key), "must be a duration such as 500ms, 30s, 10m, 2h or 1d");
    if (!allow_zero && d->count() == 0) fail(n, key_path(key), "must be greater than zero");
    out = *d;
}

void Section::byte_size(const std::string& key, std::uint64_t& out, std::uint64_t min) {
    auto n = child(key);
    if (!n.IsDefined()) return;
    auto b = n.IsScalar() ? parse_byte_size(expand_env(n, key, n.Scalar())) : std::nullopt;
    if (!b) fail(n, key_path(key), "must be a size such as 64KB, 256MB or 1GB");
    if (*b < min) fail(n, key_path(key), "must be at least " + std::to_string(min) + " bytes");
    out = *b;
}

void Section::boolean(const std::string& key, bool& out) {
    auto n = child(key);
    if (!n.IsDefined()) return;
    try {
        if (!n.IsScalar()) throw YAML::Exception(n.Mark(), "");
        out = n.as<bool>();
    } catch (const YAML::Exception&) {
        fail(n, key_path(key), "must be true or false");
    }
}

void Section::reject_unknown() const {
    if (!node_.IsDefined() || !node_.IsMap()) return;
    std::set<std::string> seen;
    for (const auto& kv : node_) {
        auto key = key_text(kv.first);
        if (!known_.count(key)) fail(kv.first, key_path(key), "unknown key");
        // YAML parsers keep one of two equal keys silently; the other setting would be lost.
        if (!seen.insert(key).second) fail(kv.first, key_path(key), "appears twice");
    }
}

std::string Section::key_text(const YAML::Node& key, const std::string& where) const {
    if (key.IsNull()) return "null";  // "~: 1", named as yaml-cpp names it
    if (!key.IsScalar()) {
        const std::string& at = where.empty() ? path_ : where;
        fail(key, at.empty() ? "top level" : at, "a key must be a name, not a list or mapping");
    }
    return key.Scalar();
}

std::string Section::expand_env(const YAML::Node& at, const std::string& key, const std::string& in) const {
    std::string out;
    std::size_t i = 0;
    while (i < in.size()) {
        auto start = in.find("${", i);
        if (start == std::string::npos) {
            out.append(in, i, std::string::npos);
            break;
        }
        out.append(in, i, start - i);
        auto end = in.find('}', start);
        if (end == std::string::npos) fail(at, key_path(key), "unterminated ${ in value");
        std::string expr = in.substr(start + 2, end - start - 2);
        std::string fallback;
        bool has_fallback = false;
        if (auto sep = expr.find(":-"); sep != std::string::npos) {
            fallback = expr.substr(sep + 2);
            expr.resize(sep);
            has_fallback = true;
        }
        const char* value = std::getenv(expr.c_str());
        if (value && *value) out += value;
        else if (has_fallback) out += fallback;
        else fail(at, key_path(key), "environment variable " + expr + " is not set");
        i = end + 1;
    }
    return out;
}

}  // namespace energyhub
