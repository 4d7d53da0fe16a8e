#include "domain/topic_filter.hpp"

#include <stdexcept>

namespace energyhub {

namespace {

// Calls f(level) for each '/'-separated level; stops early when f returns false.
template <typename F>
void for_each_level(std::string_view text, F f) {
    std::size_t start = 0;
    for (;;) {
        auto slash = text.find('/', start);
        auto level = text.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (!f(level, start) || slash == std::string_view::npos) return;
        start = slash + 1;
    }
}

}  // namespace

TopicFilter::TopicFilter(std::string filter) : filter_(std::move(filter)) {
    bool have_device = false;
    for_each_level(filter_, [&](std::string_view level, std::size_t) {
        if (level.find_first_of("+#") != std::string_view::npos && level.size() != 1)
            throw std::invalid_argument("'+' and '#' must be whole topic levels: " + filter_);
        if (!levels_.empty() && levels_.back() == "#")
            throw std::invalid_argument("'#' must be the last topic level: " + filter_);
        if (level == "+" && !have_device) {
            have_device = true;
            device_level_ = levels_.size();
        }
        levels_.emplace_back(level);
        return true;
    });
    if (!have_device) throw std::invalid_argument("topic filter needs a '+' level for the device id: " + filter_);
}

std::optional<TopicFilter::Match> TopicFilter::match(std::string_view topic) const {
    Match m;
    std::size_t i = 0;
    bool ok = true;
    bool rest = false;  // a '#' matched the remaining levels
    for_each_level(topic, [&](std::string_view level, std::size_t offset) {
        if (i >= levels_.size()) {
            ok = false;
            return false;
        }
        const auto& want = levels_[i];
        if (want == "#") {
            rest = true;
            return false;
        }
        if (want != "+" && want != level) {
            ok = false;
            return false;
        }
        if (i == device_level_) {
            m.device = level;
            auto after = offset + level.size();
            m.tail = after < topic.size() ? topic.substr(after + 1) : std::string_view();
        }
        ++i;
        return true;
    });
    if (!ok) return std::nullopt;
    if (!rest) {
        // Every level of the filter must have been used, except a final '#' (which also matches
        // its parent level, as in MQTT).
        if (i != levels_.size() && !(i + 1 == levels_.size() && levels_[i] == "#")) return std::nullopt;
    }
    return m;
}

}  // namespace energyhub
