#pragma once
// The MQTT filter of a device format, e.g. "tele/+/+" or "shellies/+/relay/+/+". Its first '+'
// level is the device id; the topic levels after that one are the "tail" the format's adapter reads
// ("SENSOR", "status/switch:0", "relay/0/power"). Further '+' levels and a final '#' match as in
// MQTT. Matching allocates nothing.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace energyhub {

class TopicFilter {
public:
    // Throws std::invalid_argument for a filter without a '+' level, with a '+' or '#' that is not
    // a whole level, or with '#' anywhere but last.
    explicit TopicFilter(std::string filter);

    const std::string& filter() const { return filter_; }

    struct Match {
        std::string_view device;  // the level of the first '+'
        std::string_view tail;    // the topic after the device level and its '/', or empty
    };
    std::optional<Match> match(std::string_view topic) const;

private:
    std::string filter_;
    std::vector<std::string> levels_;
    std::size_t device_level_ = 0;
};

}  // namespace energyhub
