// Shelly Gen2/Gen3 status, events/rpc and online messages (pipeline/shelly_adapter.hpp), with the
// filters of the sample config. Input: lines of "topic<TAB>payload" (adapter_session.hpp); a
// session lets NotifyStatus changes merge onto earlier statuses.
#include <vector>

#include "adapter_session.hpp"

using namespace energyhub;

namespace {

const std::vector<DeviceTopic> kTopics = {
    {PayloadFormat::shelly, "+/status/+"},
    {PayloadFormat::shelly, "+/events/rpc"},
    {PayloadFormat::shelly, "+/online"},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::decode_session(data, size, kTopics, nullptr);
    return 0;
}
