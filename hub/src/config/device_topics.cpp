#include "config/device_topics.hpp"

#include <stdexcept>

#include "domain/topic_filter.hpp"
#include "util/time_zone.hpp"

namespace energyhub {

void read_device_topics(Section& topics, const std::string& reading_topic, std::vector<DeviceTopic>& out) {
    const auto list = topics.child("devices");
    const std::string path = topics.key_path("devices");
    if (!list.IsDefined() || list.IsNull()) return;
    if (!list.IsSequence()) topics.fail(list, path, "must be a list of {format, filter}");
    for (std::size_t i = 0; i < list.size(); ++i) {
        const YAML::Node item = list[i];
        const std::string where = path + "[" + std::to_string(i) + "]";
        if (!item.IsMap()) topics.fail(item, where, "must be a mapping {format, filter}");
        Section entry(item, where, topics.source());
        std::string format, filter;
        entry.string("format", format);
        entry.string("filter", filter);
        entry.reject_unknown();
        auto parsed = payload_format_from_name(format);
        if (!parsed || *parsed == PayloadFormat::native)
            entry.fail(entry.child("format").IsDefined() ? entry.child("format") : item, entry.key_path("format"),
                       "must be tasmota, shelly or shelly_gen1 (the native format uses mqtt.topics.reading)");
        if (filter.empty()) entry.fail(item, entry.key_path("filter"), "is required");
        try {
            TopicFilter check(filter);
        } catch (const std::invalid_argument& e) {
            entry.fail(entry.child("filter"), entry.key_path("filter"), e.what());
        }
        bool duplicate = filter == reading_topic;
        for (const auto& t : out) duplicate = duplicate || t.filter == filter;
        if (duplicate) entry.fail(entry.child("filter"), entry.key_path("filter"), "is already subscribed");
        out.push_back(DeviceTopic{*parsed, filter});
    }
}

void read_time_zone(Section& s, const std::string& key, std::string& out) {
    s.string(key, out);
    if (!out.empty() && !time_zone_exists(out))
        s.fail(s.child(key), s.key_path(key), "unknown time zone '" + out + "' (an IANA name such as Europe/Berlin)");
}

}  // namespace energyhub
