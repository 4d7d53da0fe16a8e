#include "broker/payload_guard.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include <simdjson.h>

namespace energyhub::broker {

const char* to_string(Verdict v) {
    switch (v) {
    case Verdict::pass: return "pass";
    case Verdict::oversize: return "oversize";
    case Verdict::not_json: return "not_json";
    case Verdict::rate_limited: return "rate_limited";
    }
    return "?";
}

struct PayloadGuard::Json {
    simdjson::dom::parser parser;
    std::vector<char> padded;  // the payload with simdjson's padding, reused
};

PayloadGuard::PayloadGuard(std::size_t max_payload, double rate_per_second, double burst)
    : max_payload_(max_payload), rate_(rate_per_second), burst_(std::max(1.0, burst)), json_(std::make_unique<Json>()) {}

PayloadGuard::~PayloadGuard() = default;

Verdict PayloadGuard::check(Guard guard, std::string_view device_id, const void* payload, std::size_t len, Clock::time_point now) {
    if (guard == Guard::none) return Verdict::pass;
    // The bucket first: a flood of bad messages costs no parsing either.
    if (rate_ > 0 && !take_token(device_id, now)) return Verdict::rate_limited;
    if (len > max_payload_) return Verdict::oversize;
    if (guard == Guard::json && !is_json_object(payload, len)) return Verdict::not_json;
    return Verdict::pass;
}

bool PayloadGuard::take_token(std::string_view device_id, Clock::time_point now) {
    auto it = buckets_.find(device_id);
    if (it == buckets_.end()) it = buckets_.emplace(std::string(device_id), Bucket{burst_, now}).first;
    auto& b = it->second;
    double elapsed = std::chrono::duration<double>(now - b.last).count();
    if (elapsed > 0) {
        b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
        b.last = now;
    }
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
}

bool PayloadGuard::is_json_object(const void* payload, std::size_t len) {
    if (len == 0 || payload == nullptr) return false;
    auto& buf = json_->padded;
    buf.resize(len + simdjson::SIMDJSON_PADDING);
    std::memcpy(buf.data(), payload, len);
    std::memset(buf.data() + len, 0, simdjson::SIMDJSON_PADDING);
    simdjson::dom::element doc;
    if (json_->parser.parse(buf.data(), len, false).get(doc) != simdjson::SUCCESS) return false;
    return doc.type() == simdjson::dom::element_type::OBJECT;
}

void PayloadGuard::prune(Clock::time_point now) {
    if (rate_ <= 0) return;
    // A bucket untouched for the time it takes to refill is indistinguishable from a new one.
    auto refill = std::chrono::duration<double>(burst_ / rate_);
    for (auto it = buckets_.begin(); it != buckets_.end();) {
        if (now - it->second.last > refill) it = buckets_.erase(it);
        else ++it;
    }
}

}  // namespace energyhub::broker
