#include "pipeline/device_announcer.hpp"

#include <algorithm>
#include <vector>

#include "domain/ids.hpp"

namespace energyhub {

namespace {

constexpr int kControlQos = 1;  // configs and availability are rare and must not be lost
// Past this many queued messages, announcements wait for the device's next reading.
constexpr std::size_t kAnnounceBacklog = 10'000;

}  // namespace

DeviceAnnouncer::DeviceAnnouncer(HaDiscoverySettings settings, bool discovery, MessageSink& sink, DeviceTable& table)
    : settings_(std::move(settings)), discovery_(discovery), sink_(sink), table_(table) {}

AnnouncedState& DeviceAnnouncer::current(AnnouncedState& k) const {
    if (k.connection != connection_) {  // published before the broker went away: maybe lost with it
        k.connection = connection_;
        k.availability = -1;
        k.sensors = 0;
    }
    return k;
}

AnnouncedState& DeviceAnnouncer::known(const DeviceRef& device) {
    connection_ = static_cast<std::uint32_t>(sink_.reconnects());
    key_.assign(device.device_id);
    AnnouncedState& k = current(table_.get(key_).announced);
    if (*k.user_id != device.user_id) {  // a new owner: its topics have not been published yet
        k.user_id = table_.intern(device.user_id);
        k.availability = -1;
    }
    return k;
}

void DeviceAnnouncer::publish_availability(AnnouncedState& k, std::string_view device_id, bool online) {
    if (k.availability == (online ? 1 : 0)) return;
    k.availability = online ? 1 : 0;
    sink_.publish(device_availability_topic(settings_.state_prefix, *k.user_id, device_id),
                  online ? "online" : "offline", kControlQos, true);
}

void DeviceAnnouncer::on_reading(const Reading& reading, const DeviceRef& device) {
    // A fleet met at once (a new hub, 100,000 devices) would queue messages for every device:
    // while the sink is congested, what is not yet published waits for a later reading.
    if (sink_.backlog() >= kAnnounceBacklog) return;
    AnnouncedState& k = known(device);
    publish_availability(k, device.device_id, true);
    if (!discovery_) return;

    const std::string& id = reading.device_id;
    const bool own = id.size() == device.device_id.size();
    AnnouncedState& target = own ? k : current(table_.get(id).announced);  // a channel's sensors are its own
    const unsigned has = ha_sensors_of(reading);
    const unsigned before = target.sensors;
    if ((has & ~before) == 0) return;
    for (auto sensor : kHaSensors) {
        if ((has & ~before) & ha_bit(sensor))
            sink_.publish(ha_discovery_topic(settings_, id, sensor),
                          ha_discovery_payload(settings_, device, id, sensor), kControlQos, true);
    }
    target.sensors = static_cast<std::uint16_t>(before | has);
}

void DeviceAnnouncer::on_presence(const DeviceRef& device, bool online) {
    publish_availability(known(device), device.device_id, online);
}

void DeviceAnnouncer::on_changed(const std::string& device_id) {
    table_.for_each_of_device(device_id, [&](const std::string& id, DeviceSlot& slot) {
        slot.announced.sensors = 0;
        if (id.size() == device_id.size()) slot.announced.availability = -1;
    });
}

void DeviceAnnouncer::on_removed(const std::string& device_id) {
    std::vector<std::string> ids = {device_id};
    for (unsigned n = 0; n <= kClearedChannels; ++n) assign_channel_id(ids.emplace_back(), device_id, n);
    table_.for_each_of_device(device_id, [&](const std::string& id, DeviceSlot& slot) {
        auto& k = slot.announced;
        if (id.size() != device_id.size()) {
            if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
        } else if (k.availability != -1) {
            // An empty retained message deletes the retained availability.
            sink_.publish(device_availability_topic(settings_.state_prefix, *k.user_id, device_id), "", kControlQos,
                          true);
        }
        k = AnnouncedState{};
    });
    if (!discovery_) return;
    for (const auto& id : ids)
        for (auto sensor : kHaSensors) sink_.publish(ha_discovery_topic(settings_, id, sensor), "", kControlQos, true);
}

}  // namespace energyhub
