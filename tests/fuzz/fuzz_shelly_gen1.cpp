// Shelly Gen1 plain-number relay and meter (emeter) values and online messages
// (pipeline/shelly_gen1_adapter.hpp), with the filters of the sample config. Input: lines of
// "topic<TAB>payload" (adapter_session.hpp); a session lets power and energy meet in one reading.
#include <vector>

#include "adapter_session.hpp"

using namespace energyhub;

namespace {

const std::vector<DeviceTopic> kTopics = {
    {PayloadFormat::shelly_gen1, "shellies/+/relay/+/+"},
    {PayloadFormat::shelly_gen1, "shellies/+/emeter/+/+"},
    {PayloadFormat::shelly_gen1, "shellies/+/online"},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::decode_session(data, size, kTopics, nullptr);
    return 0;
}
