// Tasmota SENSOR, STATE and LWT messages (pipeline/tasmota_adapter.hpp), with tasmota_timezone set
// so that the device's local Time is resolved, DST changes included. The filters are those of the
// sample config and a custom FullTopic (%topic%/%prefix%/). Input: lines of "topic<TAB>payload"
// (adapter_session.hpp).
#include <vector>

#include "adapter_session.hpp"

using namespace energyhub;

namespace {

const std::vector<DeviceTopic> kTopics = {
    {PayloadFormat::tasmota, "tele/+/+"},
    {PayloadFormat::tasmota, "+/tele/+"},
};
const ProcessTimeZone kZone{};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    set_process_time_zone("Europe/Berlin");  // what the hub does with mqtt.tasmota_timezone
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::decode_session(data, size, kTopics, &kZone);
    return 0;
}
