#include "domain/topic_pattern.hpp"

#include <stdexcept>

namespace energyhub {

TopicPattern::TopicPattern(std::string filter) : filter_(std::move(filter)) {
    auto plus = filter_.find('+');
    if (plus == std::string::npos || filter_.find('+', plus + 1) != std::string::npos)
        throw std::invalid_argument("topic filter needs exactly one '+' for the device id: " + filter_);
    if (filter_.find('#') != std::string::npos)
        throw std::invalid_argument("topic filter may not contain '#': " + filter_);
    if ((plus > 0 && filter_[plus - 1] != '/') || (plus + 1 < filter_.size() && filter_[plus + 1] != '/'))
        throw std::invalid_argument("'+' must be a whole topic level: " + filter_);
    prefix_len_ = plus;
    suffix_len_ = filter_.size() - plus - 1;
}

std::optional<std::string_view> TopicPattern::match(std::string_view topic) const {
    std::string_view filter(filter_);
    auto prefix = filter.substr(0, prefix_len_);
    auto suffix = filter.substr(filter.size() - suffix_len_);
    if (topic.size() <= prefix.size() + suffix.size()) return std::nullopt;
    if (topic.substr(0, prefix.size()) != prefix) return std::nullopt;
    if (topic.substr(topic.size() - suffix.size()) != suffix) return std::nullopt;
    auto captured = topic.substr(prefix.size(), topic.size() - prefix.size() - suffix.size());
    if (captured.find('/') != std::string_view::npos) return std::nullopt;
    return captured;
}

}  // namespace energyhub
