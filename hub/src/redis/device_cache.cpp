#include "redis/device_cache.hpp"

#include <hiredis/hiredis.h>

#include <charconv>
#include <stdexcept>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace energyhub::redis {

namespace {

struct ReplyDeleter {
    void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

std::string key_for(std::string_view device_id) {
    std::string key = "energyhub:device:";
    key.append(device_id);
    return key;
}

timeval to_timeval(std::chrono::milliseconds d) {
    return {static_cast<time_t>(d.count() / 1000), static_cast<suseconds_t>((d.count() % 1000) * 1000)};
}

}  // namespace

RedisEndpoint parse_redis_uri(const std::string& uri) {
    RedisEndpoint ep;
    if (uri.rfind("unix://", 0) == 0) {
        ep.unix_path = uri.substr(7);
        if (ep.unix_path.empty()) throw std::invalid_argument("redis uri has no socket path");
        return ep;
    }
    if (uri.rfind("redis://", 0) != 0) throw std::invalid_argument("redis uri must start with redis://");
    std::string rest = uri.substr(8);
    if (auto at = rest.rfind('@'); at != std::string::npos) {
        auto auth = rest.substr(0, at);
        auto colon = auth.find(':');
        ep.password = colon == std::string::npos ? auth : auth.substr(colon + 1);
        rest = rest.substr(at + 1);
    }
    if (auto slash = rest.find('/'); slash != std::string::npos) {
        auto db = rest.substr(slash + 1);
        rest.resize(slash);
        if (!db.empty()) {
            auto [p, ec] = std::from_chars(db.data(), db.data() + db.size(), ep.db);
            if (ec != std::errc{} || p != db.data() + db.size() || ep.db < 0)
                throw std::invalid_argument("bad redis db number");
        }
    }
    if (auto colon = rest.rfind(':'); colon != std::string::npos) {
        auto port = rest.substr(colon + 1);
        auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), ep.port);
        if (ec != std::errc{} || p != port.data() + port.size() || ep.port <= 0 || ep.port > 65535)
            throw std::invalid_argument("bad redis port");
        rest.resize(colon);
    }
    if (!rest.empty()) ep.host = rest;
    return ep;
}

void DeviceCache::ContextDeleter::operator()(redisContext* c) const { redisFree(c); }

DeviceCache::DeviceCache(const RedisConfig& config, const Clock& clock)
    : config_(config), endpoint_(parse_redis_uri(config.uri)), clock_(clock) {}

DeviceCache::~DeviceCache() = default;

void DeviceCache::mark_down(const char* what) {
    auto log = spdlog::get("hub.redis");
    if (!was_down_ && log) log->warn("redis unavailable ({}); using PostgreSQL until it returns", what);
    was_down_ = true;
    ctx_.reset();
    retry_at_ms_ = clock_.steady_ms() + config_.retry_interval.count();
}

bool DeviceCache::ensure_connected() {
    if (ctx_) return true;
    if (clock_.steady_ms() < retry_at_ms_) return false;
    auto tv = to_timeval(config_.timeout);
    redisContext* raw = endpoint_.unix_path.empty()
                            ? redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, tv)
                            : redisConnectUnixWithTimeout(endpoint_.unix_path.c_str(), tv);
    std::unique_ptr<redisContext, ContextDeleter> ctx(raw);
    if (!ctx || ctx->err) {
        mark_down(ctx ? ctx->errstr : "cannot allocate context");
        return false;
    }
    redisSetTimeout(ctx.get(), tv);
    auto ok = [&](redisReply* r) {
        Reply reply(r);
        return reply && reply->type != REDIS_REPLY_ERROR;
    };
    if (!endpoint_.password.empty() &&
        !ok(static_cast<redisReply*>(redisCommand(ctx.get(), "AUTH %s", endpoint_.password.c_str())))) {
        mark_down("authentication failed");
        return false;
    }
    if (endpoint_.db != 0 && !ok(static_cast<redisReply*>(redisCommand(ctx.get(), "SELECT %d", endpoint_.db)))) {
        mark_down("cannot select database");
        return false;
    }
    ctx_ = std::move(ctx);
    if (was_down_) {
        if (auto log = spdlog::get("hub.redis")) log->info("redis is back");
        was_down_ = false;
    }
    return true;
}

std::vector<CacheStatus> DeviceCache::get_many(std::span<const std::string_view> device_ids,
                                               std::vector<DeviceRecord>& out) {
    out.resize(device_ids.size());
    std::vector<CacheStatus> status(device_ids.size(), CacheStatus::unavailable);
    if (device_ids.empty() || !ensure_connected()) return status;
    std::vector<std::string> keys;
    keys.reserve(device_ids.size());
    std::vector<const char*> argv{"MGET"};
    std::vector<std::size_t> lengths{4};
    for (auto id : device_ids) {
        const auto& key = keys.emplace_back(key_for(id));
        argv.push_back(key.data());
        lengths.push_back(key.size());
    }
    Reply reply(static_cast<redisReply*>(
        redisCommandArgv(ctx_.get(), static_cast<int>(argv.size()), argv.data(), lengths.data())));
    if (!reply) {
        mark_down(ctx_->errstr);
        return status;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != device_ids.size()) {
        mark_down("unexpected reply to MGET");
        return status;
    }
    for (std::size_t i = 0; i < device_ids.size(); ++i) {
        const redisReply* value = reply->element[i];
        status[i] = CacheStatus::miss;
        if (value->type != REDIS_REPLY_STRING) continue;
        // A value we cannot read is a miss: PostgreSQL answers and the entry is rewritten.
        auto doc = nlohmann::json::parse(std::string_view(value->str, value->len), nullptr, false);
        if (!doc.is_object() || !doc["user_id"].is_string() || !doc["type"].is_string() || !doc["name"].is_string() ||
            !doc["tz"].is_string())
            continue;
        out[i] = {std::string(device_ids[i]), doc["user_id"].get<std::string>(), doc["type"].get<std::string>(),
                  doc["name"].get<std::string>(), doc["tz"].get<std::string>()};
        status[i] = CacheStatus::hit;
    }
    return status;
}

bool DeviceCache::ping() {
    if (!ensure_connected()) return false;
    Reply reply(static_cast<redisReply*>(redisCommand(ctx_.get(), "PING")));
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
        mark_down(reply ? "PING failed" : ctx_->errstr);
        return false;
    }
    return true;
}

void DeviceCache::put_many(std::span<const DeviceRecord* const> devices) {
    if (devices.empty() || !ensure_connected()) return;
    auto ttl_s = std::max<long long>(1, config_.ttl.count() / 1000);
    for (const DeviceRecord* device : devices) {
        auto key = key_for(device->device_id);
        auto value =
            nlohmann::json{
                {"user_id", device->user_id}, {"type", device->type}, {"name", device->name}, {"tz", device->time_zone}}
                .dump();
        redisAppendCommand(ctx_.get(), "SET %b %b EX %lld", key.data(), key.size(), value.data(), value.size(), ttl_s);
    }
    for (std::size_t i = 0; i < devices.size(); ++i) {
        void* raw = nullptr;
        if (redisGetReply(ctx_.get(), &raw) != REDIS_OK) {
            mark_down(ctx_->errstr);
            return;
        }
        freeReplyObject(raw);
    }
}

void DeviceCache::erase(std::string_view device_id) {
    if (!ensure_connected()) return;
    auto key = key_for(device_id);
    Reply reply(static_cast<redisReply*>(redisCommand(ctx_.get(), "DEL %b", key.data(), key.size())));
    if (!reply) mark_down(ctx_->errstr);
}

}  // namespace energyhub::redis
