#pragma once
// The domain types of the ingest path. No I/O here.
#include <cstdint>
#include <optional>
#include <string>

namespace energyhub {

// One measurement from one device, after decoding and before enrichment.
struct Reading {
    std::string device_id;
    std::int64_t ts_ms = 0;  // device time if sent, otherwise hub receive time
    std::optional<double> power_w;
    std::optional<double> energy_wh;  // cumulative counter; may reset
    std::optional<double> voltage_v;
    std::optional<double> current_a;
};

// The registry's view of a device, as cached by the enricher.
struct DeviceRecord {
    std::string device_id;
    std::string user_id;
    std::string type;
    std::string name;
};

// A reading joined with its owner, ready to store.
struct EnrichedReading {
    Reading reading;
    std::string user_id;
    std::string device_type;
    std::optional<double> energy_delta_wh;  // usage since the previous counter value
};

}  // namespace energyhub
