#include "pipeline/ingest_pipeline.hpp"

#include <algorithm>

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "domain/ids.hpp"
#include "pipeline/alert_event.hpp"
#include "pipeline/spool.hpp"
#include "util/timestamp.hpp"

namespace energyhub {

namespace {

constexpr std::size_t kDeadletterPayloadBytes = 1024;
// A sink still holding this many messages gets no more state, and no more states than this are
// held: a fleet's first batches would otherwise keep one state per device (about 300 bytes each)
// in memory faster than the broker takes them.
constexpr std::size_t kStateBacklog = 20'000;

std::shared_ptr<spdlog::logger> pipeline_log() { return spdlog::get("hub.ingest"); }

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
    if (mqtt.share_group.empty())
        s.hub_status_topic = daemon_status_topic(mqtt, "hub");
    else
        s.hub_status_topic.clear();
    return s;
}

void append_optional(std::string& out, const char* key, const std::optional<double>& v) {
    if (!v) return;
    fmt::format_to(std::back_inserter(out), ",\"{}\":{}", key, *v);
}

}  // namespace

IngestPipeline::IngestPipeline(const Config& config, IngestPorts ports, IngestMetrics& metrics)
    : config_(config),
      ports_(ports),
      metrics_(metrics),
      devices_(config.hub.cache_size),
      enricher_(devices_, ports.lookup, config.hub.unknown_device_ttl.count(), ports.clock, this),
      partition_(DevicePartition::parse(config.hub.partition).value_or(DevicePartition{})),
      decoder_(config.mqtt.reading_topic, config.mqtt.device_topics, parser_limits(config.hub), ports.tasmota_zone),
      announcer_(discovery_settings(config.mqtt), !config.mqtt.discovery_prefix.empty(), ports.sink, devices_),
      rules_(devices_, std::make_shared<const ThresholdsConfig>(config.thresholds), ports.local_days),
      // Every reading of one message goes into the same batch.
      batch_(std::max(config.hub.batch_size, kMaxReadingsPerMessage), config.hub.flush_interval.count()) {
    deadletter_tokens_ = std::max(1.0, config.mqtt.deadletter_rate);
}

// One message may carry several readings (the channels of a meter) and a device's presence. It is
// handled as a whole: every device it names is looked up before the first reading is enriched,
// so a registry that cannot answer leaves nothing half done, and it is offered again later.
IngestPipeline::Offer IngestPipeline::offer(std::int64_t received_ms, std::string_view topic, std::string_view payload,
                                            std::uint16_t flags) {
    // Another hub of the partition set handles this device: skipped before any decoding.
    if (!partition_.whole()) {
        if (auto device = decoder_.device_of(topic); device && !partition_.owns(*device)) {
            ++metrics_.other_partition;
            return Offer::done;
        }
    }
    if (auto why = decoder_.decode(topic, payload, DecodeContext{received_ms, ports_.clock.now_ms()}, decoded_)) {
        reject(topic, payload, received_ms, *why);
        return Offer::done;
    }
    if (batch_.capacity() - batch_.size() < decoded_.readings().size()) return Offer::batch_full;
    auto stall = [&] {
        ++metrics_.lookup_stalls;
        return Offer::retry_later;
    };
    // A reading the broker kept retained is what a device once said, replayed to every new
    // subscription: storing it would make a dead plug report on each restart. A retained presence
    // (Tasmota's LWT, Shelly's online) is the device's current state and is kept.
    if ((flags & kSpoolRetained) && !decoded_.readings().empty()) {
        metrics_.retained += decoded_.readings().size();
        decoded_.drop_readings();
        if (!decoded_.presence) return Offer::done;
    }
    const auto readings = decoded_.readings();
    if (readings.empty() && !decoded_.presence) {
        ++metrics_.ignored;  // e.g. a Shelly "sys" status: nothing to store
        return Offer::done;
    }
    if (decoded_.presence) {
        // Presence of a device the registry does not know is of no use to anyone: dropped quietly.
        auto status = enricher_.resolve(decoded_.presence->device_id);
        if (status == LookupStatus::unavailable) return stall();
        const auto device = enricher_.record(decoded_.presence->device_id);
        if (status == LookupStatus::found && device)
            announcer_.on_presence(*device, decoded_.presence->online);
        else if (readings.empty())
            ++metrics_.ignored;
    }
    // One reading (the usual case) is enriched directly: enrich() changes nothing unless it finds it.
    for (std::size_t i = 0; readings.size() > 1 && i < readings.size(); ++i) {
        switch (enricher_.resolve(readings[i].device_id)) {
            case LookupStatus::found: break;
            case LookupStatus::unknown:
                reject(topic, payload, received_ms, Reject{RejectReason::unknown_device, "device is not registered"});
                return Offer::done;
            case LookupStatus::unavailable: return stall();
        }
    }
    for (const auto& r : readings) {
        auto& slot = batch_.slot();
        switch (enricher_.enrich(r, slot)) {
            case LookupStatus::found: break;
            case LookupStatus::unknown:  // only a single reading gets here (the others were resolved)
                reject(topic, payload, received_ms, Reject{RejectReason::unknown_device, "device is not registered"});
                return Offer::done;
            case LookupStatus::unavailable: return stall();
        }
        batch_.add(ports_.clock.steady_ms());
        const auto decided = alerts_.size();
        rules_.on_reading(slot, slot.device_type, alerts_);
        announce_new_alerts(decided, flags & kSpoolReplayed);
        if (const auto device = enricher_.record(r.device_id)) announcer_.on_reading(r, *device);
    }
    return Offer::done;
}

IngestPipeline::Store IngestPipeline::store() {
    if (!has_work()) return Store::nothing;
    const auto started = ports_.clock.steady_ms();
    auto outcome = ports_.store.write(batch_.items(), alerts_);
    if (!outcome.stored) {
        ++metrics_.store_failures;
        if (!store_failing_)
            pipeline_log()->warn("storing {} readings failed ({}), will retry: {}", batch_.size(),
                                 to_string(outcome.failure), outcome.error);
        store_failing_ = true;
        return Store::unavailable;
    }
    if (store_failing_) pipeline_log()->info("storing works again");
    store_failing_ = false;
    metrics_.flush_seconds.observe(static_cast<double>(ports_.clock.steady_ms() - started) / 1000.0);
    if (!batch_.empty()) {
        metrics_.batch_size.observe(static_cast<double>(batch_.size()));
        ++metrics_.batches;
    }
    metrics_.stored += outcome.result.inserted;
    metrics_.duplicates += outcome.result.duplicates;
    fresh_alerts_ = std::move(outcome.result.new_alerts);
    return Store::stored;
}

void IngestPipeline::publish_stored() {
    hold_states();
    publish_held_states();
    publish_alerts();
    batch_.clear();
    alerts_.clear();
    announced_.clear();
    fresh_alerts_.clear();
}

// A device's state is its latest reading. Dashboards and Home Assistant's recorder need no more
// than one a second, however often a device reports; a device's newest reading is held until then.
void IngestPipeline::hold_states() {
    for (const auto& e : batch_.items()) {
        auto [it, inserted] = held_states_.try_emplace(e.reading.device_id);
        if (inserted && held_states_.size() > kStateBacklog) {  // a fleet met for the first time
            held_states_.erase(it);
            ++metrics_.states_skipped;
            continue;
        }
        auto& held = it->second;
        if (!inserted && e.reading.ts_ms < held.reading.ts_ms) continue;
        held.user_id = e.user_id;
        held.reading = e.reading;
    }
}

// The held states go out together once the interval has passed. A device whose state is skipped
// while the sink is behind gets it with its next reading, as its next report supersedes it anyway.
void IngestPipeline::publish_held_states(bool now) {
    if (held_states_.empty()) return;
    const auto steady = ports_.clock.steady_ms();
    if (!now && steady < states_due_ms_) return;
    states_due_ms_ = steady + config_.hub.state_interval.count();
    if (ports_.sink.backlog() >= kStateBacklog) {
        metrics_.states_skipped += held_states_.size();
        held_states_.clear();
        return;
    }
    for (const auto& [device, held] : held_states_) {
        message_.clear();
        fmt::format_to(std::back_inserter(message_), "{{\"device_id\":\"{}\",\"user_id\":\"{}\",\"ts\":\"{}\"", device,
                       held.user_id, format_iso8601(held.reading.ts_ms));
        append_optional(message_, "power_w", held.reading.power_w);
        append_optional(message_, "energy_wh", held.reading.energy_wh);
        append_optional(message_, "energy_export_wh", held.reading.energy_export_wh);
        append_optional(message_, "voltage_v", held.reading.voltage_v);
        append_optional(message_, "current_a", held.reading.current_a);
        message_ += '}';
        // QoS 0: the next state supersedes it, and the hub's session store stays for readings.
        ports_.sink.publish(device_state_topic(config_.mqtt.state_prefix, held.user_id, device), message_, 0, true);
    }
    held_states_.clear();
}

// A replayed reading that re-derives a transition finds it stored already (it was announced before
// the restart) unless the hub stopped between deciding and storing it: only those are announced.
void IngestPipeline::publish_alerts() {
    for (auto i : fresh_alerts_)
        if (i < alerts_.size() && !announced_[i]) announce(alerts_[i]);
}

void IngestPipeline::announce_new_alerts(std::size_t from, bool replayed) {
    announced_.resize(alerts_.size(), false);
    if (replayed) return;
    for (auto i = from; i < alerts_.size(); ++i) {
        announce(alerts_[i]);
        announced_[i] = true;
    }
}

void IngestPipeline::announce(const Alert& a) {
    ++(a.state == AlertState::firing ? metrics_.alerts_fired : metrics_.alerts_resolved);
    ports_.sink.publish_event(config_.mqtt.alert_prefix + "/" + a.user_id + "/" + a.device_id, alert_to_json(a));
    pipeline_log()->info("alert {} {} on {}: {}", rule_name(a.rule), alert_state_name(a.state), a.device_id, a.message);
}

void IngestPipeline::upcoming(std::size_t max, std::vector<std::string>& device_ids) {
    if (!ports_.lookahead) return;
    upcoming_topics_.clear();
    ports_.lookahead->peek_topics(max, upcoming_topics_);
    for (auto topic : upcoming_topics_) {
        auto device = decoder_.device_of(topic);
        if (device && is_valid_reading_device_id(*device) && partition_.owns(*device)) device_ids.emplace_back(*device);
    }
}

void IngestPipeline::reject(std::string_view topic, std::string_view payload, std::int64_t received_ms,
                            const Reject& why) {
    ++metrics_.rejected[static_cast<std::size_t>(why.reason)];
    // Token bucket: a flood of bad input must not become a flood of dead letters.
    auto now = ports_.clock.steady_ms();
    double rate = config_.mqtt.deadletter_rate;
    deadletter_tokens_ = std::min(
        std::max(1.0, rate), deadletter_tokens_ + static_cast<double>(now - deadletter_refill_ms_) * rate / 1000.0);
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
    ports_.sink.publish(config_.mqtt.deadletter_topic,
                        letter.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 0, false);
    pipeline_log()->debug("rejected {} ({}): {}", topic, reject_reason_name(why.reason), why.detail);
}

void IngestPipeline::device_changed(const std::string& device_id, bool removed) {
    enricher_.invalidate(device_id);
    if (removed) {  // no more alerts or states for it or its channels
        // The announcer first: what it clears (retained availability, channels' configs) is read
        // from the slots the erase drops.
        announcer_.on_removed(device_id);
        devices_.erase_with_channels(device_id);
        std::erase_if(held_states_, [&](const auto& held) { return parent_device_id(held.first) == device_id; });
    } else {
        announcer_.on_changed(device_id);
    }
}

void IngestPipeline::check_offline() {
    const auto before = alerts_.size();
    rules_.check_offline(ports_.clock.now_ms(), alerts_);
    announce_new_alerts(before, false);
    // A silent device (or channel) is unavailable to dashboards until it reports again.
    for (auto i = before; i < alerts_.size(); ++i) {
        const auto& a = alerts_[i];
        if (a.rule == RuleKind::device_offline && a.state == AlertState::firing)
            announcer_.on_presence(DeviceRef{parent_device_id(a.device_id), a.user_id, {}, {}}, false);
    }
}

}  // namespace energyhub
