#include "service/ingest_worker.hpp"

#include <algorithm>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include "domain/ids.hpp"
#include "pipeline/alert_event.hpp"
#include "postgres/alert_store.hpp"
#include "util/timestamp.hpp"

namespace energyhub {

namespace {

constexpr std::int64_t kIdleWaitMs = 100;  // how often an idle worker looks up from the spool
constexpr std::int64_t kChangePollMs = 1'000;
constexpr std::int64_t kMaintenanceMs = 3'600'000;
constexpr std::int64_t kStatsMs = 60'000;
constexpr std::int64_t kOfflineCheckMs = 5'000;
constexpr int kSeenDeviceDays = 30;  // devices silent for longer are not watched after a restart
constexpr std::int64_t kBackoffMaxMs = 2'000;
constexpr std::size_t kDeadletterPayloadBytes = 1024;

std::shared_ptr<spdlog::logger> log() { return spdlog::get("hub.ingest"); }

ParserLimits parser_limits(const HubConfig& hub) {
    ParserLimits limits;
    limits.max_payload_bytes = hub.max_payload_bytes;
    limits.backfill_window_ms = hub.backfill_window.count();
    return limits;
}

HaDiscoverySettings discovery_settings(const MqttConfig& mqtt) {
    HaDiscoverySettings s;
    s.prefix = mqtt.discovery_prefix;
    s.state_prefix = mqtt.state_prefix;
    // In a share group any hub may take a device's next reading: its availability then rests on
    // the device alone (and the offline rule), not on the hub that announced it.
    if (mqtt.share_group.empty()) s.hub_status_topic = daemon_status_topic(mqtt, "hub");
    else s.hub_status_topic.clear();
    return s;
}

void append_optional(std::string& out, const char* key, const std::optional<double>& v) {
    if (!v) return;
    fmt::format_to(std::back_inserter(out), ",\"{}\":{}", key, *v);
}

}  // namespace

IngestWorker::IngestWorker(const Config& config, Spool& spool, MessageSink& sink, IngestMetrics& metrics,
                           const Clock& clock)
    : config_(config),
      spool_(spool),
      sink_(sink),
      metrics_(metrics),
      clock_(clock),
      session_(config.postgres.dsn),
      directory_(session_),
      store_(session_),
      redis_(config.redis.uri.empty() ? nullptr : std::make_unique<redis::DeviceCache>(config.redis, clock)),
      lookup_(directory_, session_, redis_.get()),
      enricher_(lookup_, config.hub.cache_size, config.hub.unknown_device_ttl.count(), clock),
      tasmota_zone_(config.mqtt.tasmota_timezone.empty() ? nullptr : std::make_unique<ProcessTimeZone>()),
      partition_(DevicePartition::parse(config.hub.partition).value_or(DevicePartition{})),
      decoder_(config.mqtt.reading_topic, config.mqtt.device_topics, parser_limits(config.hub), tasmota_zone_.get()),
      announcer_(discovery_settings(config.mqtt), !config.mqtt.discovery_prefix.empty(), sink, config.hub.cache_size),
      local_days_(session_),
      rules_(std::make_shared<const ThresholdsConfig>(config.thresholds), local_days_),
      started_ms_(clock.now_ms()),
      // Every reading of one message goes into the same batch.
      batch_(std::max(config.hub.batch_size, kMaxReadingsPerMessage), config.hub.flush_interval.count()) {
    deadletter_tokens_ = std::max(1.0, config.mqtt.deadletter_rate);
}

void IngestWorker::stop(std::chrono::milliseconds drain_deadline) {
    drain_until_ms_ = clock_.steady_ms() + drain_deadline.count();
    stopping_ = true;
}

void IngestWorker::reload_thresholds(std::shared_ptr<const ThresholdsConfig> thresholds) {
    std::lock_guard lock(reload_mutex_);
    reloaded_ = std::move(thresholds);
    reload_pending_ = true;
}

// What the rules knew before a restart: which alerts are firing, and when devices were last seen.
bool IngestWorker::load_rule_state() {
    try {
        auto& conn = session_.conn();
        for (const auto& d : postgres::recently_seen_devices(conn, kSeenDeviceDays))
            if (partition_.owns(d.device_id)) rules_.seed_device(d.device_id, d.user_id, d.type, d.last_seen_ms, started_ms_);
        for (const auto& a : postgres::firing_alerts(conn))
            if (partition_.owns(a.device_id)) rules_.restore_firing(a);
        rules_loaded_ = true;
        log()->info("rule state loaded: {} devices watched", rules_.devices());
    } catch (const std::exception& e) {
        session_.reset();
        if (backoff_ms_ == 0) log()->warn("cannot load rule state yet, will retry: {}", e.what());
    }
    return rules_loaded_;
}

void IngestWorker::run() {
    SpoolRecord record;
    while (!rules_loaded_ && !load_rule_state()) {
        if (stopping_) return;  // nothing was read from the spool: everything is still there
        backoff();
    }
    for (;;) {
        auto now = clock_.steady_ms();
        if (stopping_) {
            bool finished = !pending_ && batch_.empty() && spool_.drained();
            if (finished || now >= drain_until_ms_) {
                // handled_ lies past the batch's records: committed only once they are stored.
                if (handled_ && batch_.empty()) spool_.commit(*handled_);
                if (!finished) log()->warn("stopping with unstored readings; they stay spooled for the next start");
                return;
            }
        }
        housekeeping();

        bool stalled = false;
        if (pending_) {
            if (handle(pending_->received_ms, pending_->topic, pending_->payload, pending_->flags) == Step::done) {
                handled_ = pending_->end;
                pending_.reset();
            } else {
                stalled = true;
            }
        } else if (!batch_.full()) {
            if (spool_.next(record, std::chrono::milliseconds(batch_.wait_ms(now, kIdleWaitMs)))) {
                ++metrics_.received;
                if (handle(record.received_ms, record.topic, record.payload, record.flags) == Step::done) {
                    handled_ = record.end;
                } else {
                    pending_ = Pending{record.received_ms, record.flags, std::string(record.topic),
                                       std::string(record.payload), record.end};
                    stalled = true;
                }
            }
        }

        now = clock_.steady_ms();
        bool due = batch_.due(now) || (!batch_.empty() && (stalled || stopping_));
        if (due || (batch_.empty() && (handled_ || !alerts_.empty()))) {
            if (!flush()) backoff();
        }
        if (stalled) backoff();
    }
}

// One message may carry several readings (the channels of a meter) and a device's presence. It is
// handled as a whole: every device it names is looked up before the first reading is enriched,
// so a registry that cannot answer leaves nothing half done, and it is retried later.
IngestWorker::Step IngestWorker::handle(std::int64_t received_ms, std::string_view topic, std::string_view payload,
                                        std::uint16_t flags) {
    // Another hub of the partition set handles this device: skipped before any decoding.
    if (!partition_.whole()) {
        if (auto device = decoder_.device_of(topic); device && !partition_.owns(*device)) {
            ++metrics_.other_partition;
            return Step::done;
        }
    }
    if (auto why = decoder_.decode(topic, payload, DecodeContext{received_ms, clock_.now_ms()}, decoded_)) {
        reject(topic, payload, received_ms, *why);
        return Step::done;
    }
    auto stall = [&] {
        ++metrics_.lookup_stalls;
        metrics_.postgres_up = false;
        return Step::stall;
    };
    // A reading the broker kept retained is what a device once said, replayed to every new
    // subscription: storing it would make a dead plug report on each restart. A retained presence
    // (Tasmota's LWT, Shelly's online) is the device's current state and is kept.
    if ((flags & kSpoolRetained) && !decoded_.readings().empty()) {
        metrics_.retained += decoded_.readings().size();
        decoded_.drop_readings();
        if (!decoded_.presence) return Step::done;
    }
    const auto readings = decoded_.readings();
    if (readings.empty() && !decoded_.presence) {
        ++metrics_.ignored;  // e.g. a Shelly "sys" status: nothing to store
        return Step::done;
    }
    if (decoded_.presence) {
        // Presence of a device the registry does not know is of no use to anyone: dropped quietly.
        auto status = enricher_.resolve(decoded_.presence->device_id);
        if (status == LookupStatus::unavailable) return stall();
        const DeviceRecord* device = enricher_.record(decoded_.presence->device_id);
        if (status == LookupStatus::found && device) announcer_.on_presence(*device, decoded_.presence->online);
        else if (readings.empty()) ++metrics_.ignored;
    }
    // One reading (the usual case) is enriched directly: enrich() changes nothing unless it finds it.
    for (std::size_t i = 0; readings.size() > 1 && i < readings.size(); ++i) {
        switch (enricher_.resolve(readings[i].device_id)) {
            case LookupStatus::found: break;
            case LookupStatus::unknown:
                reject(topic, payload, received_ms, Reject{RejectReason::unknown_device, "device is not registered"});
                return Step::done;
            case LookupStatus::unavailable: return stall();
        }
    }
    if (batch_.capacity() - batch_.size() < readings.size() && !flush()) return Step::stall;
    for (const auto& r : readings) {
        auto& slot = batch_.slot();
        switch (enricher_.enrich(r, slot)) {
            case LookupStatus::found: break;
            case LookupStatus::unknown:  // only a single reading gets here (the others were resolved)
                reject(topic, payload, received_ms, Reject{RejectReason::unknown_device, "device is not registered"});
                return Step::done;
            case LookupStatus::unavailable: return stall();
        }
        batch_.add(clock_.steady_ms());
        rules_.on_reading(slot, slot.device_type, alerts_);
        if (const DeviceRecord* device = enricher_.record(r.device_id)) announcer_.on_reading(r, *device);
    }
    backoff_ms_ = 0;
    return Step::done;
}

bool IngestWorker::flush() {
    if (!batch_.empty() || !alerts_.empty()) {
        bool ok = false;
        std::vector<std::size_t> fresh_alerts;
        const auto started = clock_.steady_ms();
        try {
            auto result = store_.write(batch_.items(), alerts_);
            metrics_.flush_seconds.observe(static_cast<double>(clock_.steady_ms() - started) / 1000.0);
            if (!batch_.empty()) metrics_.batch_size.observe(static_cast<double>(batch_.size()));
            metrics_.postgres_up = true;
            metrics_.stored += result.inserted;
            metrics_.duplicates += result.duplicates;
            if (!batch_.empty()) ++metrics_.batches;
            fresh_alerts = std::move(result.new_alerts);
            ok = true;
        } catch (const std::exception& e) {
            ++metrics_.store_failures;
            metrics_.postgres_up = false;
            session_.reset();
            if (backoff_ms_ == 0) log()->warn("storing {} readings failed, will retry: {}", batch_.size(), e.what());
        }
        if (!ok) return false;
        // The spool first: room for the arrival callback does not wait on anything else.
        if (handled_) {
            spool_.commit(*handled_);
            handled_.reset();
        }
        publish_states();
        publish_alerts(fresh_alerts);
        batch_.clear();
        alerts_.clear();
        backoff_ms_ = 0;
    }
    if (handled_) {
        spool_.commit(*handled_);
        handled_.reset();
    }
    return true;
}

void IngestWorker::publish_states() {
    auto items = batch_.items();
    last_in_batch_.clear();
    for (std::size_t i = 0; i < items.size(); ++i) {
        auto [it, inserted] = last_in_batch_.try_emplace(items[i].reading.device_id, i);
        if (!inserted && items[i].reading.ts_ms >= items[it->second].reading.ts_ms) it->second = i;
    }
    for (const auto& [device, index] : last_in_batch_) {
        const auto& e = items[index];
        message_.clear();
        fmt::format_to(std::back_inserter(message_), "{{\"device_id\":\"{}\",\"user_id\":\"{}\",\"ts\":\"{}\"", device,
                       e.user_id, format_iso8601(e.reading.ts_ms));
        append_optional(message_, "power_w", e.reading.power_w);
        append_optional(message_, "energy_wh", e.reading.energy_wh);
        append_optional(message_, "energy_export_wh", e.reading.energy_export_wh);
        append_optional(message_, "voltage_v", e.reading.voltage_v);
        append_optional(message_, "current_a", e.reading.current_a);
        message_ += '}';
        // QoS 0: the next batch supersedes it, and the hub's session store stays for readings.
        sink_.publish(device_state_topic(config_.mqtt.state_prefix, e.user_id, device), message_, 0, true);
    }
}

// Only transitions stored for the first time are announced: a replayed reading that re-derives an
// alert finds it stored already.
void IngestWorker::publish_alerts(const std::vector<std::size_t>& fresh) {
    for (auto i : fresh) {
        const auto& a = alerts_[i];
        ++(a.state == AlertState::firing ? metrics_.alerts_fired : metrics_.alerts_resolved);
        sink_.publish(config_.mqtt.alert_prefix + "/" + a.user_id + "/" + a.device_id, alert_to_json(a), 1, false);
        log()->info("alert {} {} on {}: {}", rule_name(a.rule), alert_state_name(a.state), a.device_id, a.message);
    }
}

void IngestWorker::reject(std::string_view topic, std::string_view payload, std::int64_t received_ms, const Reject& why) {
    ++metrics_.rejected[static_cast<std::size_t>(why.reason)];
    // Token bucket: a flood of bad input must not become a flood of dead letters.
    auto now = clock_.steady_ms();
    double rate = config_.mqtt.deadletter_rate;
    deadletter_tokens_ = std::min(std::max(1.0, rate), deadletter_tokens_ + static_cast<double>(now - deadletter_refill_ms_) * rate / 1000.0);
    deadletter_refill_ms_ = now;
    if (deadletter_tokens_ < 1.0) {
        ++metrics_.deadletter_dropped;
        return;
    }
    deadletter_tokens_ -= 1.0;
    nlohmann::json letter = {
        {"topic", std::string(topic)},
        {"reason", std::string(reject_reason_name(why.reason))},
        {"detail", why.detail},
        {"received_at", format_iso8601(received_ms)},
        {"payload", std::string(payload.substr(0, kDeadletterPayloadBytes))},
        {"payload_bytes", payload.size()},
    };
    sink_.publish(config_.mqtt.deadletter_topic, letter.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 0,
                  false);
    log()->debug("rejected {} ({}): {}", topic, reject_reason_name(why.reason), why.detail);
}

void IngestWorker::housekeeping() {
    auto now = clock_.steady_ms();
    metrics_.heartbeat_ms = now;
    metrics_.cache_hits = enricher_.stats().hits;
    metrics_.cache_misses = enricher_.stats().misses;
    metrics_.cached_devices = enricher_.cached();
    metrics_.redis_hits = lookup_.redis_hits();
    metrics_.database_lookups = lookup_.database_lookups();

    try {
        if (now >= next_change_poll_ms_) {
            next_change_poll_ms_ = now + kChangePollMs;
            for (const auto& id : directory_.changes()) {
                enricher_.invalidate(id);
                if (redis_) redis_->erase(id);
                if (!directory_.find(id)) {  // removed: no more alerts for it or its channels
                    rules_.forget_with_channels(id);
                    announcer_.on_removed(id);
                } else {
                    announcer_.on_changed(id);
                }
            }
            metrics_.postgres_up = true;
        }
        if (now >= next_maintenance_ms_) {
            auto dropped = store_.partitions().maintain(session_.conn(), clock_.now_ms(), config_.hub.partitions_ahead,
                                                        config_.hub.retention_days);
            next_maintenance_ms_ = now + kMaintenanceMs;
            for (const auto& name : dropped) log()->info("dropped partition {} (older than {} days)", name, config_.hub.retention_days);
        }
    } catch (const std::exception& e) {
        session_.reset();
        metrics_.postgres_up = false;
        next_change_poll_ms_ = now + kChangePollMs;
        if (backoff_ms_ == 0) log()->warn("registry maintenance failed, will retry: {}", e.what());
    }
    if (reload_pending_.exchange(false)) {
        std::lock_guard lock(reload_mutex_);
        rules_.set_thresholds(std::move(reloaded_));
        log()->info("thresholds reloaded");
    }
    if (now >= next_offline_check_ms_) {
        next_offline_check_ms_ = now + kOfflineCheckMs;
        const auto before = alerts_.size();
        rules_.check_offline(clock_.now_ms(), alerts_);
        // A silent device (or channel) is unavailable to dashboards until it reports again.
        for (auto i = before; i < alerts_.size(); ++i) {
            const auto& a = alerts_[i];
            if (a.rule == RuleKind::device_offline && a.state == AlertState::firing)
                announcer_.on_presence(DeviceRecord{std::string(parent_device_id(a.device_id)), a.user_id, {}, {}}, false);
        }
        metrics_.redis_up = redis_ && redis_->ping();
    }
    if (now >= next_stats_ms_) {
        if (next_stats_ms_ != 0) {
            auto spool = spool_.stats();
            log()->info("received={} stored={} duplicates={} rejected={} batches={} store_failures={} spool_bytes={} cached_devices={}",
                        metrics_.received.load(), metrics_.stored.load(), metrics_.duplicates.load(),
                        metrics_.rejected_total(), metrics_.batches.load(), metrics_.store_failures.load(),
                        spool.pending_bytes, enricher_.cached());
        }
        next_stats_ms_ = now + kStatsMs;
    }
}

void IngestWorker::backoff() {
    backoff_ms_ = std::clamp<std::int64_t>(backoff_ms_ * 2, 50, kBackoffMaxMs);
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms_));
}

}  // namespace energyhub
