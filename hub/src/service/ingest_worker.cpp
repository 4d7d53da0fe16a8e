#include "service/ingest_worker.hpp"

#include <malloc.h>

#include <algorithm>
#include <thread>

#include <spdlog/spdlog.h>

#include "postgres/alert_store.hpp"

namespace energyhub {

namespace {

constexpr std::int64_t kIdleWaitMs = 100;  // how often an idle worker looks up from the spool
constexpr int kSeenDeviceDays = 30;        // devices silent for longer are not watched after a restart
constexpr std::int64_t kBackoffMaxMs = 2'000;

std::shared_ptr<spdlog::logger> worker_log() { return spdlog::get("hub.ingest"); }

}  // namespace

IngestWorker::IngestWorker(const Config& config, Spool& spool, MessageSink& sink, IngestMetrics& metrics,
                           const Clock& clock)
    : spool_(spool),
      metrics_(metrics),
      clock_(clock),
      session_(config.postgres.dsn),
      directory_(session_),
      store_(session_),
      redis_(config.redis.uri.empty() ? nullptr : std::make_unique<redis::DeviceCache>(config.redis, clock)),
      lookup_(directory_, redis_.get()),
      tasmota_zone_(config.mqtt.tasmota_timezone.empty() ? nullptr : std::make_unique<ProcessTimeZone>()),
      local_days_(session_),
      pipeline_(config, IngestPorts{lookup_, local_days_, store_, sink, clock, tasmota_zone_.get(), &spool}, metrics),
      registry_watcher_(directory_, redis_.get(), pipeline_),
      partition_keeper_(store_, config.hub, clock),
      started_ms_(clock.now_ms()),
      rollup_fold_{config.hub.rollup_interval.count()} {}

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
        auto& rules = pipeline_.rules();
        const auto& partition = pipeline_.partition();
        for (const auto& d : store_.recently_seen_devices(kSeenDeviceDays))
            if (partition.owns(d.device_id))
                rules.seed_device(d.device_id, d.user_id, d.type, d.last_seen_ms, started_ms_);
        for (const auto& a : store_.firing_alerts())
            if (partition.owns(a.device_id)) rules.restore_firing(a);
        rules_loaded_ = true;
        worker_log()->info("rule state loaded: {} devices watched", rules.devices());
    } catch (const StoreError& e) {
        if (backoff_ms_ == 0) worker_log()->warn("cannot load rule state yet, will retry: {}", e.what());
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
            bool finished = !pending_ && !pipeline_.has_work() && spool_.drained();
            if (finished || now >= drain_until_ms_) {
                // handled_ lies past the batch's records: committed only once they are stored.
                if (handled_ && !pipeline_.has_batch()) spool_.commit(*handled_);
                pipeline_.publish_held_states(true);
                if (!finished)
                    worker_log()->warn("stopping with unstored readings; they stay spooled for the next start");
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
        } else if (!pipeline_.batch_full()) {
            if (spool_.next(record, std::chrono::milliseconds(pipeline_.wait_ms(now, kIdleWaitMs)))) {
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
        bool due = pipeline_.batch_due(now) || (pipeline_.has_batch() && (stalled || stopping_));
        if (due || (!pipeline_.has_batch() && (handled_ || pipeline_.has_work()))) {
            if (!flush()) backoff();
        }
        if (stalled) backoff();
    }
}

IngestWorker::Step IngestWorker::handle(std::int64_t received_ms, std::string_view topic, std::string_view payload,
                                        std::uint16_t flags) {
    auto offered = pipeline_.offer(received_ms, topic, payload, flags);
    if (offered == IngestPipeline::Offer::batch_full) {
        if (!flush()) return Step::stall;
        offered = pipeline_.offer(received_ms, topic, payload, flags);
    }
    if (offered != IngestPipeline::Offer::done) {
        metrics_.postgres_up = false;  // no registry could answer
        return Step::stall;
    }
    backoff_ms_ = 0;
    return Step::done;
}

// The batch's transaction, then the spool position, then the messages about it: a kill between
// any two loses nothing (the spool replays, the primary key drops what was stored already).
bool IngestWorker::flush() {
    switch (pipeline_.store()) {
        case IngestPipeline::Store::unavailable: metrics_.postgres_up = false; return false;
        case IngestPipeline::Store::stored:
            metrics_.postgres_up = true;
            // The spool first: room for the arrival callback does not wait on anything else.
            if (handled_) {
                spool_.commit(*handled_);
                handled_.reset();
            }
            pipeline_.publish_stored();
            backoff_ms_ = 0;
            break;
        case IngestPipeline::Store::nothing: break;
    }
    if (handled_) {
        spool_.commit(*handled_);
        handled_.reset();
    }
    return true;
}

void IngestWorker::housekeeping() {
    auto now = clock_.steady_ms();
    metrics_.heartbeat_ms = now;
    const auto& enricher = pipeline_.enricher();
    metrics_.cache_hits = enricher.stats().hits;
    metrics_.cache_misses = enricher.stats().misses;
    metrics_.cached_devices = pipeline_.cached_devices();
    metrics_.redis_hits = lookup_.redis_hits();
    metrics_.database_lookups = lookup_.database_lookups();
    metrics_.lookup_batches = lookup_.batches();
    metrics_.local_day_queries = local_days_.queries();

    try {
        if (registry_poll_.due(now)) {
            registry_watcher_.poll();
            metrics_.postgres_up = true;
        }
        if (partition_upkeep_.due(now)) partition_keeper_.maintain();
        if (rollup_fold_.due(now)) {
            // Ten intervals at most per fold: after an outage the hub catches up in steps, storing
            // batches between them, rather than in one transaction longer than the watchdog allows.
            const std::chrono::milliseconds interval(rollup_fold_.period_ms);
            const auto fold = store_.fold_rollup(interval, 10 * interval);
            if (!fold.caught_up) rollup_fold_.next_ms = now;
            ++metrics_.rollup_folds;
            metrics_.rollup_folded_ms = fold.folded_before_ms;
            worker_log()->debug("rollup: {} device-hours folded{}", fold.device_hours,
                                fold.caught_up ? "" : ", more to fold");
        }
    } catch (const StoreError& e) {
        metrics_.postgres_up = false;
        if (backoff_ms_ == 0)
            worker_log()->warn("maintenance (registry, partitions, rollup) failed, will retry: {}", e.what());
    }
    if (reload_pending_.exchange(false)) {
        std::lock_guard lock(reload_mutex_);
        pipeline_.rules().set_thresholds(std::move(reloaded_));
        worker_log()->info("thresholds reloaded");
    }
    pipeline_.publish_held_states();
    // A burst (a fleet met at once, its announcements) frees memory between what stays, where
    // malloc keeps it: 12 MB of 76 at 100,000 devices. Handing it back takes milliseconds.
    if (memory_trim_.due(now)) ::malloc_trim(0);
    if (offline_check_.due(now)) {
        pipeline_.check_offline();
        metrics_.redis_up = redis_ && redis_->ping();
    }
    if (const bool first = stats_.next_ms == 0; stats_.due(now)) {
        if (!first) {
            auto spool = spool_.stats();
            worker_log()->info(
                "received={} stored={} duplicates={} rejected={} batches={} store_failures={} spool_bytes={} "
                "cached_devices={}",
                metrics_.received.load(), metrics_.stored.load(), metrics_.duplicates.load(), metrics_.rejected_total(),
                metrics_.batches.load(), metrics_.store_failures.load(), spool.pending_bytes,
                pipeline_.cached_devices());
        }
    }
}

void IngestWorker::backoff() {
    backoff_ms_ = std::clamp<std::int64_t>(backoff_ms_ * 2, 50, kBackoffMaxMs);
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms_));
}

}  // namespace energyhub
