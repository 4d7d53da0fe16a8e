#include "ack_log.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "log.hpp"

namespace energyhub::sim {

AckLog::AckLog(const std::string& path) : path_(path), file_(std::fopen(path.c_str(), "w")) {
    if (!file_) throw std::runtime_error("cannot write acked log '" + path + "': " + std::strerror(errno));
}

void AckLog::write(std::string_view lines) {
    if (lines.empty()) return;
    std::lock_guard lock(mutex_);
    const bool ok =
        std::fwrite(lines.data(), 1, lines.size(), file_.get()) == lines.size() && std::fflush(file_.get()) == 0;
    if (!ok && !failed_) {
        failed_ = true;
        logger()->error("writing acked log '{}' failed: {}", path_, std::strerror(errno));
    }
}

}  // namespace energyhub::sim
