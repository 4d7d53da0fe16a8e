#pragma once
// A task that runs every `period_ms` on a loop's own clock: due() says whether it is time, and
// moves the next time on when it is.
#include <cstdint>

namespace energyhub {

struct Every {
    std::int64_t period_ms;
    std::int64_t next_ms = 0;  // 0: due at the first look

    bool due(std::int64_t now_ms) {
        if (now_ms < next_ms) return false;
        next_ms = now_ms + period_ms;
        return true;
    }
};

}  // namespace energyhub
