#pragma once
// Reading one YAML mapping of the config file: typed getters that validate and remember which keys
// were read, so leftovers are reported as unknown keys with file and line. Each component parses
// its own section with one of these (see config.cpp for the sections of the hub).
#include <chrono>
#include <cstdint>
#include <set>
#include <string>

#include <yaml-cpp/yaml.h>

namespace energyhub {

class Section {
public:
    Section(const YAML::Node& node, std::string path, const std::string& source);

    // Throws ConfigError "source:line: key: problem".
    [[noreturn]] void fail(const YAML::Node& at, const std::string& key, const std::string& problem) const;

    std::string key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

    // The child node, possibly undefined; marks the key as known.
    YAML::Node child(const std::string& key);
    Section section(const std::string& key) { return Section(child(key), key_path(key), source_); }
    const YAML::Node& node() const { return node_; }
    const std::string& source() const { return source_; }

    // Each getter leaves `out` untouched (the default) when the key is absent.
    void string(const std::string& key, std::string& out);
    template <typename Int>
    void integer(const std::string& key, Int& out, long long min, long long max) {
        long long v = 0;
        if (read_integer(key, v, min, max)) out = static_cast<Int>(v);
    }
    void number(const std::string& key, double& out, double min);
    void duration(const std::string& key, std::chrono::milliseconds& out, bool allow_zero = false);
    void byte_size(const std::string& key, std::uint64_t& out, std::uint64_t min);
    void boolean(const std::string& key, bool& out);

    // Any key not read is a mistake: say which and where.
    void reject_unknown() const;

    // A key of this mapping, or of the mapping `where` inside it, as text. A list or mapping used
    // as a key ("[a, b]: 1") fails here: yaml-cpp's own BadConversion would not name file and key.
    std::string key_text(const YAML::Node& key, const std::string& where = {}) const;

private:
    bool read_integer(const std::string& key, long long& out, long long min, long long max);
    std::string expand_env(const YAML::Node& at, const std::string& key, const std::string& in) const;

    YAML::Node node_;
    std::string path_;
    const std::string& source_;
    std::set<std::string> known_;
};

}  // namespace energyhub
