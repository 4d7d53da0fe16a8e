#pragma once
// Tasmota firmware as it publishes by default (FullTopic %prefix%/%topic%/):
//   tele/<device>/SENSOR  {"Time":"2023-05-19T20:52:56","ENERGY":{"Total":514.153,"Power":56,...}}
//   tele/<device>/STATE   periodic JSON status: the device is online
//   tele/<device>/LWT     plain text "Online" / "Offline" (the broker publishes "Offline" as its will)
// The kind of message is the last level of the topic, so a custom FullTopic such as
// %topic%/%prefix%/ works with the filter "+/tele/+". Other kinds (INFO1, RESULT...) are ignored.
//
// ENERGY mapping: Power W, Voltage V, Current A, Total kWh -> energy_wh (x1000), ExportActive kWh
// -> energy_export_wh (x1000). Today and Yesterday are checked but not stored (the hub derives
// daily usage from Total itself);
// TotalStartTime, ApparentPower, ReactivePower, Factor, Period and Frequency are ignored. A SENSOR
// without ENERGY (a plug without a meter) is ignored; an ENERGY without Power and Total is
// rejected (no_measurement).
//
// Multi-channel and multi-phase meters send arrays ("Power":[12,34,56]). Channel i of an array
// (0-based) is the sub-device "<device>:<i+1>", Tasmota's own numbering (POWER1, L1...). The
// device itself gets a reading with its totals: Total and ExportActive as sent once for the whole
// device (Tasmota's default), or summed over the channels when sent per channel (SetOption129), and
// the net power summed over the channels; a single Voltage is shared by every channel. Arrays must
// have the same length, 1..kMaxTasmotaChannels. A Total that runs backwards while the meter
// exports (a net register) is export, not a reset (pipeline/energy_counter.hpp).
//
// Time is the device's local time without an offset. With a configured zone it is converted to UTC
// (in a DST overlap, the instant nearest the receive time wins); without one the reading is dated
// by the hub's receive time. A Time that carries an offset (SetOption52) is used as it is.
#include <cstdint>
#include <optional>
#include <string_view>

#include "pipeline/json_input.hpp"
#include "pipeline/payload_adapter.hpp"
#include "util/time_zone.hpp"

namespace energyhub {

constexpr std::size_t kMaxTasmotaChannels = 16;

class TasmotaAdapter final : public PayloadAdapter {
public:
    // `zone` may be null (date readings by receive time); it must outlive the adapter.
    TasmotaAdapter(ParserLimits limits, const UtcOffsets* zone);

    PayloadFormat format() const override { return PayloadFormat::tasmota; }
    std::optional<Reject> decode(std::string_view topic, const TopicFilter::Match& where, std::string_view payload,
                                 const DecodeContext& ctx, DecodedMessage& out) override;

private:
    std::optional<Reject> sensor(std::string_view device, std::string_view payload, const DecodeContext& ctx,
                                 DecodedMessage& out);
    std::optional<Reject> time_of(std::string_view text, const DecodeContext& ctx, std::int64_t& out) const;

    ParserLimits limits_;
    const UtcOffsets* zone_;
    JsonInput json_;
};

// The UTC instant of a local wall-clock time `local_ms` (milliseconds since 1970-01-01T00:00 local)
// in `zone`. A time that occurs twice (the hour after DST ends) resolves to the occurrence nearest
// `near_ms`; a time that never occurs (the hour skipped when DST starts) uses the offset before
// the change.
std::int64_t resolve_local_time(std::int64_t local_ms, const UtcOffsets& zone, std::int64_t near_ms);

}  // namespace energyhub
