#include "service/hub_metrics.hpp"

#include "http/prometheus.hpp"
#include "util/clock.hpp"

namespace energyhub {

namespace {
// The worker loop turns at least every 100 ms; much longer means it is stuck.
constexpr std::int64_t kStuckWorkerMs = 30'000;
}  // namespace

std::string render_hub_metrics(const IngestMetrics& m, const SpoolStats& spool, const MqttClient& mqtt,
                               const Outbox& outbox, int subscription_qos) {
    PrometheusText p;
    p.counter("energyhub_readings_received_total", "Messages taken from the spool",
              static_cast<double>(m.received.load()))
        .counter("energyhub_readings_stored_total", "Readings newly stored", static_cast<double>(m.stored.load()))
        .counter("energyhub_readings_duplicate_total", "Readings already stored (redelivery or replay)",
                 static_cast<double>(m.duplicates.load()));
    p.family("energyhub_readings_rejected_total", "Messages refused, by reason", "counter");
    for (std::size_t i = 0; i < kRejectReasonCount; ++i)
        p.sample("energyhub_readings_rejected_total", static_cast<double>(m.rejected[i].load()),
                 "reason=\"" + std::string(reject_reason_name(static_cast<RejectReason>(i))) + "\"");
    p.counter("energyhub_deadletter_dropped_total", "Dead letters not published (over the rate limit)",
              static_cast<double>(m.deadletter_dropped.load()))
        .counter("energyhub_messages_ignored_total", "Device messages understood but carrying nothing to store",
                 static_cast<double>(m.ignored.load()))
        .counter("energyhub_readings_retained_total",
                 "Readings the broker replayed from its retained store on subscribing: old news, not stored",
                 static_cast<double>(m.retained.load()))
        .counter("energyhub_messages_other_partition_total", "Messages of devices another hub handles (hub.partition)",
                 static_cast<double>(m.other_partition.load()))
        .counter("energyhub_batches_total", "Batches written", static_cast<double>(m.batches.load()))
        .counter("energyhub_store_failures_total", "Batch writes that failed and were retried",
                 static_cast<double>(m.store_failures.load()))
        .counter("energyhub_lookup_stalls_total", "Waits because no registry could answer",
                 static_cast<double>(m.lookup_stalls.load()))
        .histogram("energyhub_batch_size", "Readings per batch", m.batch_size)
        .histogram("energyhub_flush_seconds", "Time to write one batch", m.flush_seconds)
        .gauge("energyhub_spool_bytes", "Spooled bytes not yet stored", static_cast<double>(spool.pending_bytes))
        .counter("energyhub_spool_waits_total", "Times the MQTT thread waited for spool room or disk",
                 static_cast<double>(spool.append_waits))
        .counter("energyhub_cache_hits_total", "Device lookups answered by the in-process cache",
                 static_cast<double>(m.cache_hits.load()))
        .counter("energyhub_cache_misses_total", "Device lookups that went to Redis or PostgreSQL",
                 static_cast<double>(m.cache_misses.load()))
        .counter("energyhub_redis_hits_total", "Misses answered by Redis", static_cast<double>(m.redis_hits.load()))
        .counter("energyhub_database_lookups_total", "Misses answered by PostgreSQL",
                 static_cast<double>(m.database_lookups.load()))
        .counter("energyhub_lookup_batches_total", "Registry lookups, each for a batch of missed devices",
                 static_cast<double>(m.lookup_batches.load()))
        .counter("energyhub_local_day_queries_total",
                 "Local day bounds asked of PostgreSQL, once per time zone and day",
                 static_cast<double>(m.local_day_queries.load()))
        .gauge("energyhub_cached_devices", "Devices and channels in the in-process cache",
               static_cast<double>(m.cached_devices.load()))
        .counter("energyhub_rollup_folds_total", "Folds of readings into the stored hourly rollup",
                 static_cast<double>(m.rollup_folds.load()))
        .gauge("energyhub_rollup_folded_before_seconds",
               "Unix time before which every reading is in the stored hourly rollup (0 before the first fold)",
               static_cast<double>(m.rollup_folded_ms.load()) / 1000.0);
    p.family("energyhub_alerts_total", "Alert transitions announced", "counter")
        .sample("energyhub_alerts_total", static_cast<double>(m.alerts_fired.load()), "state=\"firing\"")
        .sample("energyhub_alerts_total", static_cast<double>(m.alerts_resolved.load()), "state=\"resolved\"");
    p.counter("energyhub_mqtt_reconnects_total", "Reconnections to the broker", static_cast<double>(mqtt.reconnects()))
        .counter("energyhub_mqtt_publish_failures_total",
                 "Publishes the MQTT client refused (disconnected, buffer full)",
                 static_cast<double>(mqtt.publish_failures()))
        .counter("energyhub_states_skipped_total",
                 "State messages not queued while the outbox was behind (the device's next reading brings it)",
                 static_cast<double>(m.states_skipped.load()))
        .counter("energyhub_outbox_dropped_total",
                 "Messages dropped while the outbox was full (state, alerts, dead letters; alerts stay stored)",
                 static_cast<double>(outbox.dropped()))
        .gauge("energyhub_outbox_queued", "Messages waiting for the broker (states, announcements, alerts)",
               static_cast<double>(outbox.backlog()))
        .gauge("energyhub_mqtt_connected", "1 while connected to the broker", mqtt.connected() ? 1 : 0)
        .gauge("energyhub_mqtt_subscription_qos",
               "The QoS the hub subscribed with: 2 where this Paho acknowledged before the callback returned",
               subscription_qos)
        .gauge("energyhub_postgres_up", "1 while PostgreSQL answers the worker", m.postgres_up.load() ? 1 : 0);
    return p.text();
}

void register_hub_health(HealthRegistry& health, const IngestMetrics& m, const Spool& spool, const MqttClient& mqtt,
                         bool redis_configured) {
    health.add("mqtt", true, [&mqtt] { return ComponentHealth{mqtt.connected(), "{}"}; });
    health.add("postgres", true, [&m] { return ComponentHealth{m.postgres_up.load(), "{}"}; });
    if (redis_configured)
        health.add("redis", false, [&m] { return ComponentHealth{m.redis_up.load(), "{\"required\":false}"}; });
    health.add("spool", true, [&spool] {
        auto s = spool.stats();
        return ComponentHealth{!s.full, "{\"pending_bytes\":" + std::to_string(s.pending_bytes) + "}"};
    });
    health.liveness([&m] {
        return ComponentHealth{SystemClock::instance().steady_ms() - m.heartbeat_ms.load() < kStuckWorkerMs, "{}"};
    });
}

}  // namespace energyhub
