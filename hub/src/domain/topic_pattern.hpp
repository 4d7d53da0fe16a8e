#pragma once
// An MQTT subscription filter with exactly one '+' that captures the device id,
// e.g. "energy/+/reading". Matching allocates nothing.
#include <optional>
#include <string>
#include <string_view>

namespace energyhub {

class TopicPattern {
public:
    // Throws std::invalid_argument unless the filter has exactly one '+' segment and no '#'.
    explicit TopicPattern(std::string filter);

    const std::string& filter() const { return filter_; }

    // The captured segment, or nullopt when the topic does not match.
    std::optional<std::string_view> match(std::string_view topic) const;

private:
    std::string filter_;
    // Offsets rather than views, so copies of the pattern stay valid.
    std::size_t prefix_len_ = 0;  // everything before '+'
    std::size_t suffix_len_ = 0;  // everything after '+'
};

}  // namespace energyhub
