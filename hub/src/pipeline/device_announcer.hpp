#pragma once
// What the hub says about devices besides their readings, for dashboards and Home Assistant:
//   <state_prefix>/<user>/<device>/availability   retained "online" / "offline"
//   Home Assistant discovery configs (pipeline/ha_discovery.hpp), retained
// A device's configs are published the first time this hub run stores a reading of it (or of one
// of its channels), one per sensor the readings carry; the availability is "online" on a reading
// or when the device says so (Tasmota LWT, Shelly online), "offline" when it says so. A removed
// device's configs are cleared with empty retained messages. While the sink is congested, what a
// reading would announce waits for a later reading, so a whole fleet is announced at the sink's
// pace. After the sink reconnects, each device is announced again on its next reading: a broker
// that crashed comes back with what it saved last. Owned by the ingest worker's thread.
#include <string>

#include "domain/reading.hpp"
#include "pipeline/device_table.hpp"
#include "pipeline/ha_discovery.hpp"
#include "pipeline/message_sink.hpp"

namespace energyhub {

// Channels cleared on removal even if this run has not seen them: every channel number that
// Tasmota (1..16) and Shelly (0..3 on a Pro 4PM) use.
constexpr unsigned kClearedChannels = 16;

class DeviceAnnouncer {
public:
    // `discovery` false: availability only, no Home Assistant configs. What was published is kept
    // in the devices' slots of `table`.
    DeviceAnnouncer(HaDiscoverySettings settings, bool discovery, MessageSink& sink, DeviceTable& table);

    // A reading of `reading.device_id` (the device or one of its channels) of registered `device`.
    void on_reading(const Reading& reading, const DeviceRef& device);

    // The device reported itself online or offline.
    void on_presence(const DeviceRef& device, bool online);

    // The registry changed the device (name, type, owner): announce it again on its next reading.
    void on_changed(const std::string& device_id);

    // The device was removed from the registry: clear its configs and availability.
    void on_removed(const std::string& device_id);

private:
    AnnouncedState& current(AnnouncedState& k) const;  // forgets what an earlier connection carried
    AnnouncedState& known(const DeviceRef& device);    // its slot, as of the sink's current connection
    void publish_availability(AnnouncedState& k, std::string_view device_id, bool online);

    HaDiscoverySettings settings_;
    bool discovery_;
    MessageSink& sink_;
    DeviceTable& table_;
    std::string key_;               // reused lookup key
    std::uint32_t connection_ = 0;  // the sink's reconnects when last asked
};

}  // namespace energyhub
