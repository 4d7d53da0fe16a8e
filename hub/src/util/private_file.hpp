#pragma once
// A file written whole or not at all (a temporary file, fsync, rename), with the given mode:
// secrets and keys that only their owner may read.
#include <string>
#include <string_view>

#include <sys/types.h>

namespace energyhub {

// Throws std::runtime_error "cannot write PATH: reason".
void write_private_file(const std::string& path, std::string_view text, mode_t mode = 0600);

}  // namespace energyhub
