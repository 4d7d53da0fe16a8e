#include "device_feed.hpp"

#include <algorithm>
#include <chrono>

namespace energyhub::sim {

std::int64_t wall_clock_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

DeviceFeed::DeviceFeed(const FeedOptions& options, std::vector<DeviceSpec> devices) {
    devices_.reserve(devices.size());
    for (auto& spec : devices) {
        const auto format = format_of(options.format, spec.index).value_or(Format::native);
        const bool house = spec.profile == Profile::house;
        auto topic = topic_for(format, options.topic_prefix, spec.device_id, house);
        std::optional<HouseModel> meter;
        if (house) meter.emplace(options.seed, spec.index, options.pv_noon_hour);
        DeviceModel model(spec.profile, options.seed, spec.index);
        devices_.push_back(Device{std::move(spec), std::move(topic), model, std::move(meter), format});
    }
}

DeviceFeed::Next DeviceFeed::next(std::size_t i, std::optional<std::int64_t> at) {
    auto& device = devices_[i];
    const std::int64_t ts = std::max(at.value_or(wall_clock_ms()), device.last_ts_ms + 1);
    device.last_ts_ms = ts;
    if (device.house)
        return {format_house(device.format, vendor_payload_, device.spec.device_id, ts, device.house->step(ts),
                             device.vendor),
                ts};
    const auto sample = device.model.step(ts);
    switch (device.format) {
        case Format::tasmota: return {format_tasmota(vendor_payload_, ts, sample, device.vendor), ts};
        case Format::shelly: return {format_shelly(vendor_payload_, ts, sample, device.vendor), ts};
        case Format::native: break;
    }
    return {format_native(payload_, ts, sample), ts};
}

}  // namespace energyhub::sim
