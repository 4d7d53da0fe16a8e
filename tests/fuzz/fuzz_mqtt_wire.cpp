// firmware-sim's MQTT packet reader (firmware-sim/mqtt_wire.hpp) over what a broker, or anything
// listening on its port, may send: a stream is cut into packets as the event loop does, never
// reading past the buffer, each packet whole, a malformed one ending the stream. Input: the bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "mqtt_wire.hpp"

using namespace energyhub::sim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    for (;;) {
        wire::Packet p;
        std::size_t used = 0;
        const auto parsed = wire::next_packet(in, p, used);
        if (parsed != wire::Parse::packet) {
            // Only a stream that could still grow into a packet is incomplete.
            FUZZ_CHECK(parsed == wire::Parse::malformed || in.size() < 2 + wire::kMaxIncomingPacket + 4);
            break;
        }
        FUZZ_CHECK(used >= 2 && used <= in.size() && p.body.size() <= wire::kMaxIncomingPacket);
        FUZZ_CHECK(p.body.data() >= in.data() && p.body.data() + p.body.size() == in.data() + used);
        const int code = wire::connack_code(p);
        FUZZ_CHECK(code >= -1 && code <= 255 && !wire::connack_reason(code).empty());
        if (wire::puback_id(p) != 0) FUZZ_CHECK(p.type == wire::puback && p.body.size() == 2);
        in.remove_prefix(used);
    }
    return 0;
}
