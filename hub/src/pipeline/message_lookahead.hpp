#pragma once
// A look at the messages waiting behind the one being handled, without taking them: the enricher
// looks up the devices they name together with a miss, one registry round trip for many devices.
#include <cstddef>
#include <string_view>
#include <vector>

namespace energyhub {

class MessageLookahead {
public:
    virtual ~MessageLookahead() = default;
    // Appends the topics of up to `max` waiting messages, in order, as far as they are at hand
    // without I/O. The views stay valid until the current message is done with.
    virtual void peek_topics(std::size_t max, std::vector<std::string_view>& out) const = 0;
};

}  // namespace energyhub
