#include "util/logging.hpp"

#include <cstdlib>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace energyhub {

namespace {
const char* const kLoggers[] = {"energyhub", "hub.mqtt", "hub.ingest", "hub.store", "hub.redis", "hub.spool", "sim", "notifier", "insights", "insights.ollama"};
}

void setup_logging(const std::string& level) {
    static auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    const bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
    for (const char* name : kLoggers) {
        auto logger = spdlog::get(name);
        if (!logger) {
            logger = std::make_shared<spdlog::logger>(name, sink);
            spdlog::register_logger(logger);
        }
        logger->set_pattern(journal ? "<%l> %n: %v" : "%Y-%m-%dT%H:%M:%S.%e %l %n: %v");
        logger->set_level(spdlog::level::from_str(level));
        logger->flush_on(spdlog::level::info);
    }
    spdlog::set_default_logger(spdlog::get("energyhub"));
}

}  // namespace energyhub
