#pragma once
#include <memory>

#include <spdlog/spdlog.h>

namespace energyhub::sim {

// The simulator's named logger ("sim"), created by main; the default logger stands in when a
// component runs without it (in tests).
inline std::shared_ptr<spdlog::logger> logger() {
    auto log = spdlog::get("sim");
    return log ? log : spdlog::default_logger();
}

}  // namespace energyhub::sim
