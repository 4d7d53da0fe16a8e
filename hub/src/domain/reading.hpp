#pragma once
// The domain types of the ingest path. No I/O here.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace energyhub {

// One measurement from one device, after decoding and before enrichment.
struct Reading {
    std::string device_id;
    std::int64_t ts_ms = 0;  // device time if sent, otherwise hub receive time
    std::optional<double> power_w;
    std::optional<double> energy_wh;         // cumulative import (consumption) counter; may reset
    std::optional<double> energy_export_wh;  // cumulative export (returned to the grid) counter; may reset
    std::optional<double> voltage_v;
    std::optional<double> current_a;
};

// The last counter values of a (sub-)device, so usage continues from one reading to the next.
struct CounterState {
    std::optional<std::int64_t> ts_ms;  // of the newest reading that carried a counter
    std::optional<double> import_wh;
    std::optional<double> export_wh;
    std::optional<double> min_power_w;  // the lowest power seen since then (export shows as < 0)
};

// The registry's view of a device, as cached by the enricher.
struct DeviceRecord {
    std::string device_id;
    std::string user_id;
    std::string type;
    std::string name;
    std::string time_zone = {};  // the owner's IANA zone, where their days begin and end (empty: UTC)
};

// A registered device as the ingest path passes it around: views of a record or of a cache entry,
// valid until that changes.
struct DeviceRef {
    std::string_view device_id;
    std::string_view user_id;
    std::string_view type;
    std::string_view name;
    DeviceRef(std::string_view id, std::string_view user, std::string_view device_type, std::string_view display_name)
        : device_id(id), user_id(user), type(device_type), name(display_name) {}
    DeviceRef(const DeviceRecord& r) : DeviceRef(r.device_id, r.user_id, r.type, r.name) {}  // implicit: a view
};

// A reading joined with its owner, ready to store.
struct EnrichedReading {
    Reading reading;
    std::string user_id;
    std::string device_type;
    std::string time_zone;                  // the owner's
    std::optional<double> energy_delta_wh;  // import since the previous counter values
    std::optional<double> export_delta_wh;  // export since the previous counter values
};

}  // namespace energyhub
