#include "util/logging.hpp"

#include <cstdlib>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace energyhub {

namespace {

const char* const kLoggers[] = {"energyhub", "hub.mqtt",  "hub.ingest", "hub.store", "hub.redis",
                                "hub.spool", "sim",       "notifier",   "insights",  "insights.ollama"};

// %* : the message as the inside of a JSON string.
class JsonMessage final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        for (char c : msg.payload) {
            switch (c) {
                case '"': dest.append(std::string_view("\\\"")); break;
                case '\\': dest.append(std::string_view("\\\\")); break;
                case '\n': dest.append(std::string_view("\\n")); break;
                case '\r': dest.append(std::string_view("\\r")); break;
                case '\t': dest.append(std::string_view("\\t")); break;
                default:
                    if (static_cast<unsigned char>(c) < 0x20) {
                        char buf[8];
                        std::snprintf(buf, sizeof buf, "\\u%04x", c);
                        dest.append(std::string_view(buf));
                    } else {
                        dest.push_back(c);
                    }
            }
        }
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonMessage>(); }
};

// %J : the syslog priority journald reads from a "<N>" line prefix.
class SyslogPriority final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        static constexpr char kPriority[] = {'7', '7', '6', '4', '3', '2', '6'};  // trace..critical, off
        dest.push_back(kPriority[static_cast<int>(msg.level)]);
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<SyslogPriority>(); }
};

std::unique_ptr<spdlog::formatter> make_formatter(const std::string& format) {
    auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    f->add_flag<JsonMessage>('*').add_flag<SyslogPriority>('J');
    if (format == "json") {
        f->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"%n","msg":"%*"})");
    } else if (std::getenv("JOURNAL_STREAM") != nullptr) {
        f->set_pattern("<%J>%n: %v");  // the journal adds the time
    } else {
        f->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %n: %v");
    }
    return f;
}

}  // namespace

void setup_logging(const std::string& level, const std::string& format) {
    static auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    for (const char* name : kLoggers) {
        auto logger = spdlog::get(name);
        if (!logger) {
            logger = std::make_shared<spdlog::logger>(name, sink);
            spdlog::register_logger(logger);
        }
        logger->set_formatter(make_formatter(format));
        logger->set_level(spdlog::level::from_str(level));
        logger->flush_on(spdlog::level::info);
    }
    spdlog::set_default_logger(spdlog::get("energyhub"));
}

}  // namespace energyhub
