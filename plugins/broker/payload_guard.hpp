#pragma once
// The payload guard: what a device publishes on its reading topics is refused at the broker when
// it is too large, is not one JSON object (where JSON is expected), or comes faster than the
// device's token bucket allows. Refused messages never reach a subscriber. Not thread-safe: only
// the broker thread uses it.
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/policy.hpp"
#include "broker/string_hash.hpp"

namespace energyhub::broker {

enum class Verdict { pass, oversize, not_json, rate_limited };

const char* to_string(Verdict v);

class PayloadGuard {
public:
    using Clock = std::chrono::steady_clock;

    // rate_per_second 0: no rate limit.
    PayloadGuard(std::size_t max_payload, double rate_per_second, double burst);
    ~PayloadGuard();
    PayloadGuard(const PayloadGuard&) = delete;
    PayloadGuard& operator=(const PayloadGuard&) = delete;

    Verdict check(Guard guard, std::string_view device_id, const void* payload, std::size_t len, Clock::time_point now);

    // Forget buckets that have been full for a while (called now and then from the broker tick).
    void prune(Clock::time_point now);
    std::size_t tracked_devices() const { return buckets_.size(); }

private:
    struct Bucket {
        double tokens;
        Clock::time_point last;
    };
    bool take_token(std::string_view device_id, Clock::time_point now);
    bool is_json_object(const void* payload, std::size_t len);

    std::size_t max_payload_;
    double rate_;
    double burst_;
    std::unordered_map<std::string, Bucket, StringHash, std::equal_to<>> buckets_;
    struct Json;  // the JSON parser and its reused buffer (simdjson stays out of this header)
    std::unique_ptr<Json> json_;
};

}  // namespace energyhub::broker
