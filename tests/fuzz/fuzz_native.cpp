// The native reading format (pipeline/reading_parser.hpp) on its own topic, energy/<device>/reading.
// Input: lines of "topic<TAB>payload" (adapter_session.hpp).
#include "adapter_session.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    energyhub::fuzz::decode_session(data, size, {}, nullptr);
    return 0;
}
