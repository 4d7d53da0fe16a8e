#pragma once
// Cache-aside store of device records in Redis, shared by every hub. Optional and never trusted to
// be up: a failed or slow command marks Redis down for a while, and callers fall back to
// PostgreSQL. Timeouts are short because the ingest thread is waiting.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "domain/reading.hpp"
#include "util/clock.hpp"

struct redisContext;

namespace energyhub::redis {

enum class CacheStatus { hit, miss, unavailable };

struct RedisEndpoint {
    std::string host = "127.0.0.1";
    int port = 6379;
    std::string unix_path;
    std::string password;
    int db = 0;
};

// redis://[:password@]host[:port][/db] or unix:///path/to/socket. Throws std::invalid_argument.
RedisEndpoint parse_redis_uri(const std::string& uri);

class DeviceCache {
public:
    DeviceCache(const RedisConfig& config, const Clock& clock);
    ~DeviceCache();

    // Several records in one round trip (MGET): `out[i]` and the result's [i] for `device_ids[i]`;
    // every one unavailable while Redis is.
    std::vector<CacheStatus> get_many(std::span<const std::string_view> device_ids, std::vector<DeviceRecord>& out);
    // Several records in one pipelined round trip.
    void put_many(std::span<const DeviceRecord* const> devices);
    void erase(std::string_view device_id);

    // False while Redis is considered down (until the next retry).
    bool available() const { return ctx_ != nullptr; }

    // A round trip, for health checks: connects if due, then PING.
    bool ping();

private:
    struct ContextDeleter {
        void operator()(redisContext* c) const;
    };
    bool ensure_connected();
    void mark_down(const char* what);

    RedisConfig config_;
    RedisEndpoint endpoint_;
    const Clock& clock_;
    std::unique_ptr<redisContext, ContextDeleter> ctx_;
    std::int64_t retry_at_ms_ = 0;
    bool was_down_ = false;
};

}  // namespace energyhub::redis
