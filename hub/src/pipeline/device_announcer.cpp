#include "pipeline/device_announcer.hpp"

#include <algorithm>

#include "domain/ids.hpp"

namespace energyhub {

namespace {

constexpr int kControlQos = 1;  // configs and availability are rare and must not be lost
// A fleet seen for the first time (a new hub, 100,000 devices) would queue a few kB of configs per
// device at once: past this many queued messages, configs wait for the device's next reading.
constexpr std::size_t kAnnounceBacklog = 10'000;

}  // namespace

DeviceAnnouncer::DeviceAnnouncer(HaDiscoverySettings settings, bool discovery, MessageSink& sink, std::size_t capacity)
    : settings_(std::move(settings)), discovery_(discovery), sink_(sink), devices_(capacity), channels_(capacity) {}

DeviceAnnouncer::Known& DeviceAnnouncer::known(const DeviceRef& device) {
    key_.assign(device.device_id);
    Known* k = devices_.find(key_);
    if (!k) k = &devices_.put(key_, Known{names_.intern(device.user_id), -1, 0, {}});
    if (*k->user_id != device.user_id) {  // a new owner: its topics have not been published yet
        k->user_id = names_.intern(device.user_id);
        k->availability = -1;
    }
    return *k;
}

void DeviceAnnouncer::publish_availability(Known& k, std::string_view device_id, bool online) {
    if (k.availability == (online ? 1 : 0)) return;
    k.availability = online ? 1 : 0;
    sink_.publish(device_availability_topic(settings_.state_prefix, *k.user_id, device_id),
                  online ? "online" : "offline", kControlQos, true);
}

void DeviceAnnouncer::on_reading(const Reading& reading, const DeviceRef& device) {
    Known& k = known(device);
    const std::string& id = reading.device_id;
    const bool own = id.size() == device.device_id.size();
    if (!own && std::find(k.channels.begin(), k.channels.end(), id) == k.channels.end() &&
        k.channels.size() <= kMaxChannel)
        k.channels.push_back(id);
    publish_availability(k, device.device_id, true);
    if (!discovery_) return;

    const unsigned has = ha_sensors_of(reading);
    const unsigned* channel = own ? nullptr : channels_.find(id);
    const unsigned before = own ? k.sensors : channel ? *channel : 0;
    if ((has & ~before) == 0 || sink_.backlog() >= kAnnounceBacklog) return;
    for (auto sensor : kHaSensors) {
        if ((has & ~before) & ha_bit(sensor))
            sink_.publish(ha_discovery_topic(settings_, id, sensor),
                          ha_discovery_payload(settings_, device, id, sensor), kControlQos, true);
    }
    if (own)
        k.sensors = before | has;
    else
        channels_.put(id, before | has);
}

void DeviceAnnouncer::on_presence(const DeviceRef& device, bool online) {
    publish_availability(known(device), device.device_id, online);
}

void DeviceAnnouncer::on_changed(const std::string& device_id) {
    if (Known* k = devices_.find(device_id)) {
        k->sensors = 0;
        for (const auto& c : k->channels) channels_.erase(c);
        k->availability = -1;
    }
}

void DeviceAnnouncer::on_removed(const std::string& device_id) {
    std::vector<std::string> ids = {device_id};
    for (unsigned n = 0; n <= kClearedChannels; ++n) ids.push_back(device_id + ":" + std::to_string(n));
    if (Known* k = devices_.find(device_id)) {
        for (const auto& c : k->channels)
            if (std::find(ids.begin(), ids.end(), c) == ids.end()) ids.push_back(c);
        // An empty retained message deletes the retained availability.
        if (k->availability != -1)
            sink_.publish(device_availability_topic(settings_.state_prefix, *k->user_id, device_id), "", kControlQos,
                          true);
        devices_.erase(device_id);
    }
    for (const auto& id : ids) {
        channels_.erase(id);
        if (!discovery_) continue;
        for (auto sensor : kHaSensors) sink_.publish(ha_discovery_topic(settings_, id, sensor), "", kControlQos, true);
    }
}

}  // namespace energyhub
