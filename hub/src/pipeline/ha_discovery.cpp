#include "pipeline/ha_discovery.hpp"

#include <nlohmann/json.hpp>

#include "domain/ids.hpp"

namespace energyhub {

namespace {

struct SensorSpec {
    std::string_view name;
    std::string_view title;
    std::string_view unit;
    std::string_view device_class;
    std::string_view state_class;
    std::string_view value_template;
    int precision;
};

// A key missing from one state message renders "None", which Home Assistant reads as "unknown",
// never as 0 (a 0 on a total_increasing sensor would look like a meter reset).
constexpr std::array<SensorSpec, 5> kSpecs = {{
    {"power", "Power", "W", "power", "measurement",
     "{{ value_json.power_w if value_json.power_w is defined else None }}", 1},
    {"energy", "Energy", "kWh", "energy", "total_increasing",
     "{{ (value_json.energy_wh / 1000) | round(6) if value_json.energy_wh is defined else None }}", 3},
    {"energy_export", "Energy exported", "kWh", "energy", "total_increasing",
     "{{ (value_json.energy_export_wh / 1000) | round(6) if value_json.energy_export_wh is defined else None }}", 3},
    {"voltage", "Voltage", "V", "voltage", "measurement",
     "{{ value_json.voltage_v if value_json.voltage_v is defined else None }}", 1},
    {"current", "Current", "A", "current", "measurement",
     "{{ value_json.current_a if value_json.current_a is defined else None }}", 3},
}};

const SensorSpec& spec(HaSensor s) { return kSpecs[static_cast<std::size_t>(s)]; }

// <state_prefix>/<user>/<device>/<leaf>
std::string device_topic(std::string_view state_prefix, std::string_view user_id, std::string_view device_id,
                         std::string_view leaf) {
    std::string t(state_prefix);
    t += '/';
    t += user_id;
    t += '/';
    t += device_id;
    t += '/';
    t += leaf;
    return t;
}

}  // namespace

unsigned ha_sensors_of(const Reading& r) {
    unsigned bits = 0;
    if (r.power_w) bits |= ha_bit(HaSensor::power);
    if (r.energy_wh) bits |= ha_bit(HaSensor::energy);
    if (r.energy_export_wh) bits |= ha_bit(HaSensor::energy_export);
    if (r.voltage_v) bits |= ha_bit(HaSensor::voltage);
    if (r.current_a) bits |= ha_bit(HaSensor::current);
    return bits;
}

std::string_view ha_sensor_name(HaSensor s) { return spec(s).name; }

std::string ha_object_id(std::string_view device_id) {
    std::string out;
    out.reserve(device_id.size() + 4);
    for (char c : device_id) {
        if (c == '_')
            out += "__";
        else if (c == '.')
            out += "_d";
        else if (c == ':')
            out += "_c";
        else
            out += c;  // [A-Za-z0-9-]: ids allow nothing else
    }
    return out;
}

std::string ha_discovery_topic(const HaDiscoverySettings& s, std::string_view device_id, HaSensor sensor) {
    std::string topic = s.prefix;
    topic += "/sensor/energyhub/";
    topic += ha_object_id(device_id);
    topic += '_';
    topic += spec(sensor).name;
    topic += "/config";
    return topic;
}

std::string device_state_topic(std::string_view state_prefix, std::string_view user_id, std::string_view device_id) {
    return device_topic(state_prefix, user_id, device_id, "state");
}

std::string device_availability_topic(std::string_view state_prefix, std::string_view user_id,
                                      std::string_view device_id) {
    return device_topic(state_prefix, user_id, device_id, "availability");
}

std::string ha_discovery_payload(const HaDiscoverySettings& s, const DeviceRef& device, std::string_view device_id,
                                 HaSensor sensor) {
    const auto& sp = spec(sensor);
    const auto parent = parent_device_id(device_id);
    std::string name(sp.title);
    if (parent.size() < device_id.size()) {
        std::string what(sp.title);
        what[0] = static_cast<char>(what[0] - 'A' + 'a');  // "Channel 1 power"; titles start upper case
        name = "Channel " + std::string(device_id.substr(parent.size() + 1)) + " " + what;
    }
    nlohmann::json availability = nlohmann::json::array();
    auto available_while_online = [&](const std::string& topic) {
        availability.push_back(
            {{"topic", topic}, {"payload_available", "online"}, {"payload_not_available", "offline"}});
    };
    if (!s.hub_status_topic.empty()) available_while_online(s.hub_status_topic);
    available_while_online(device_availability_topic(s.state_prefix, device.user_id, parent));
    nlohmann::json config = {
        {"name", name},
        {"unique_id", "energyhub_" + ha_object_id(device_id) + "_" + std::string(sp.name)},
        {"state_topic", device_state_topic(s.state_prefix, device.user_id, device_id)},
        {"value_template", sp.value_template},
        {"unit_of_measurement", sp.unit},
        {"device_class", sp.device_class},
        {"state_class", sp.state_class},
        {"suggested_display_precision", sp.precision},
        {"availability", std::move(availability)},
        {"availability_mode", "all"},
        {"device",
         {{"identifiers", nlohmann::json::array({"energyhub_" + ha_object_id(parent)})},
          {"name", std::string(device.name.empty() ? parent : device.name)},
          {"manufacturer", "energyhub"},
          {"model", std::string(device.type)},
          {"serial_number", std::string(parent)}}},
        {"origin", {{"name", "energyhub"}}},
    };
    return config.dump();
}

}  // namespace energyhub
