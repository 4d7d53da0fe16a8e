#pragma once
// The payload adapter targets share their input format: a short session of MQTT messages, one per
// line, "topic<TAB>payload" (the format of the vendor payload fixtures). A fresh PayloadDecoder,
// configured as the hub configures it, decodes them in order exactly as the ingest worker does.
// A session rather than one message, so that the adapters' caches (a Shelly NotifyStatus merged
// onto the last status, a Gen1 power joined with the last energy) are fuzzed too, and a finding
// still reproduces from its input alone. Lines without a tab are skipped.
//
// Every outcome is checked against PayloadAdapter's contract (pipeline/payload_adapter.hpp).
#include <cstddef>
#include <cstdint>
#include <span>

#include "domain/payload_format.hpp"
#include "util/time_zone.hpp"

namespace energyhub::fuzz {

// `device_topics` as in mqtt.topics.devices; the native filter is the default "energy/+/reading".
void decode_session(const std::uint8_t* data, std::size_t size, std::span<const DeviceTopic> device_topics,
                    const UtcOffsets* tasmota_zone);

}  // namespace energyhub::fuzz
