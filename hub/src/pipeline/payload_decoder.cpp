#include "pipeline/payload_decoder.hpp"

#include <stdexcept>

#include "pipeline/shelly_adapter.hpp"
#include "pipeline/shelly_gen1_adapter.hpp"
#include "pipeline/tasmota_adapter.hpp"

namespace energyhub {

PayloadDecoder::PayloadDecoder(const std::string& native_filter, std::span<const DeviceTopic> device_topics,
                               ParserLimits limits, const UtcOffsets* tasmota_zone)
    : limits_(limits), tasmota_zone_(tasmota_zone) {
    adapters_.push_back(std::make_unique<ReadingParser>(TopicPattern(native_filter), limits_));
    routes_.push_back(Route{TopicFilter(native_filter), adapters_.back().get()});
    for (const auto& t : device_topics) routes_.push_back(Route{TopicFilter(t.filter), &adapter(t.format)});
}

PayloadDecoder::~PayloadDecoder() = default;

PayloadAdapter& PayloadDecoder::adapter(PayloadFormat format) {
    for (auto& a : adapters_)
        if (a->format() == format) return *a;
    switch (format) {
        case PayloadFormat::native:
            throw std::invalid_argument("the native format has one topic, mqtt.topics.reading");
        case PayloadFormat::tasmota: adapters_.push_back(std::make_unique<TasmotaAdapter>(limits_, tasmota_zone_)); break;
        case PayloadFormat::shelly: adapters_.push_back(std::make_unique<ShellyAdapter>(limits_)); break;
        case PayloadFormat::shelly_gen1: adapters_.push_back(std::make_unique<ShellyGen1Adapter>(limits_)); break;
    }
    return *adapters_.back();
}

std::optional<Reject> PayloadDecoder::decode(std::string_view topic, std::string_view payload, const DecodeContext& ctx,
                                             DecodedMessage& out) {
    out.clear();
    for (auto& route : routes_) {
        auto where = route.filter.match(topic);
        if (!where) continue;
        auto problem = route.adapter->decode(topic, *where, payload, ctx, out);
        if (problem) out.clear();
        return problem;
    }
    return Reject{RejectReason::bad_topic, "topic matches no configured device topic"};
}

std::optional<std::string_view> PayloadDecoder::device_of(std::string_view topic) const {
    for (const auto& route : routes_) {
        if (auto where = route.filter.match(topic)) return where->device;
    }
    return std::nullopt;
}

std::vector<std::string> PayloadDecoder::filters() const {
    std::vector<std::string> out;
    for (const auto& r : routes_) out.push_back(r.filter.filter());
    return out;
}

}  // namespace energyhub
