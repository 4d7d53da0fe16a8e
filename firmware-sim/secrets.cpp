#include "secrets.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "domain/ids.hpp"
#include "util/private_file.hpp"

namespace energyhub::sim {

namespace {
[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw std::runtime_error("secrets file '" + path + "': " + what);
}
}  // namespace

DeviceSecrets read_secrets(const std::string& path) {
    DeviceSecrets out;
    std::ifstream in(path);
    if (!in) {
        if (errno == ENOENT) return out;
        fail(path, std::strerror(errno));
    }
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        if (line.empty()) continue;
        const auto tab = line.find('\t');
        if (tab == std::string::npos || tab + 1 == line.size() || !is_valid_id(std::string_view(line).substr(0, tab)))
            fail(path, "line " + std::to_string(n) + " is not 'device_id<TAB>secret'");
        out[line.substr(0, tab)] = line.substr(tab + 1);
    }
    return out;
}

void write_secrets(const std::string& path, const DeviceSecrets& secrets) {
    std::string text;
    for (const auto& [id, secret] : secrets) text += id + '\t' + secret + '\n';
    write_private_file(path, text);
}

}  // namespace energyhub::sim
