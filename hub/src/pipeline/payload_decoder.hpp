#pragma once
// Routes each message to the adapter of the format its topic was subscribed for: the native
// reading filter first, then the configured device topics in their order (the first filter that
// matches wins). A topic no filter matches is refused as bad_topic.
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/payload_format.hpp"
#include "domain/topic_filter.hpp"
#include "pipeline/payload_adapter.hpp"
#include "pipeline/reading_parser.hpp"
#include "util/time_zone.hpp"

namespace energyhub {

class PayloadDecoder {
public:
    // `native_filter` is mqtt.topics.reading; `tasmota_zone` may be null (see TasmotaAdapter) and
    // must outlive the decoder. Throws std::invalid_argument for a malformed filter.
    PayloadDecoder(const std::string& native_filter, std::span<const DeviceTopic> device_topics, ParserLimits limits,
                   const UtcOffsets* tasmota_zone);
    ~PayloadDecoder();

    // Clears `out`, then decodes into it. On a reject `out` is left empty.
    std::optional<Reject> decode(std::string_view topic, std::string_view payload, const DecodeContext& ctx,
                                 DecodedMessage& out);

    // The device a topic names (the level of the first '+' of the filter decode() would use), or
    // nullopt if no filter matches: every reading and presence decoded from it is of this device
    // or of its channels.
    std::optional<std::string_view> device_of(std::string_view topic) const;

    // Every filter to subscribe to, native first.
    std::vector<std::string> filters() const;

private:
    PayloadAdapter& adapter(PayloadFormat format);

    ParserLimits limits_;
    const UtcOffsets* tasmota_zone_;
    std::vector<std::unique_ptr<PayloadAdapter>> adapters_;  // one per format in use
    struct Route {
        TopicFilter filter;
        PayloadAdapter* adapter;
    };
    std::vector<Route> routes_;
};

}  // namespace energyhub
