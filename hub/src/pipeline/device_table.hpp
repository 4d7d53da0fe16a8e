#pragma once
// One record per (sub-)device for everything the ingest path keeps about it between readings: what
// the enricher knows of its owner and counters, the rule engine's state, what the announcer has
// published. One key and one entry per device (a map per component paid for each three times
// over), bounded by `hub.cache_size`: the device read least recently goes first, with all it held.
// Owned by the ingest worker's thread: no locks.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "domain/alert.hpp"
#include "domain/ids.hpp"
#include "domain/reading.hpp"
#include "util/lru_cache.hpp"
#include "util/name_pool.hpp"

namespace energyhub {

// A device's display name: a pointer, and a copy on the heap only when there is a name (a fleet's
// devices mostly have none; a std::string is 32 bytes either way).
class DisplayName {
public:
    DisplayName& operator=(std::string_view name) {
        text_.reset();
        if (!name.empty()) {
            text_ = std::make_unique_for_overwrite<char[]>(name.size() + 1);
            std::memcpy(text_.get(), name.data(), name.size());
            text_[name.size()] = '\0';  // names come from PostgreSQL text, which holds no NUL
        }
        return *this;
    }
    std::string_view view() const { return text_ ? std::string_view(text_.get()) : std::string_view(); }

private:
    std::unique_ptr<char[]> text_;
};

// The enricher's (pipeline/enricher.hpp): a registered device's owner, a (sub-)device's counters.
struct OwnerState {
    enum class Registry : std::uint8_t { not_asked, known, unknown };
    Registry registry = Registry::not_asked;  // of the id itself: a channel's entry has not_asked
    bool has_counters = false;
    std::uint8_t counter_bits = 0;                   // which of the counter values below are set
    const std::string* user_id = NamePool::empty();  // pooled in the table
    const std::string* type = NamePool::empty();
    const std::string* time_zone = NamePool::empty();
    DisplayName name;
    std::int64_t ask_again_ms = 0;  // unknown: when to ask again
    // CounterState without its four optionals (a flag and padding each: 64 bytes, not 32).
    std::int64_t counter_ts_ms = 0;
    double import_wh = 0, export_wh = 0, min_power_w = 0;

    CounterState counters() const {
        CounterState c;
        if (counter_bits & kTs) c.ts_ms = counter_ts_ms;
        if (counter_bits & kImport) c.import_wh = import_wh;
        if (counter_bits & kExport) c.export_wh = export_wh;
        if (counter_bits & kMinPower) c.min_power_w = min_power_w;
        return c;
    }
    void set_counters(const CounterState& c) {
        counter_bits = static_cast<std::uint8_t>((c.ts_ms ? kTs : 0) | (c.import_wh ? kImport : 0) |
                                                 (c.export_wh ? kExport : 0) | (c.min_power_w ? kMinPower : 0));
        counter_ts_ms = c.ts_ms.value_or(0);
        import_wh = c.import_wh.value_or(0);
        export_wh = c.export_wh.value_or(0);
        min_power_w = c.min_power_w.value_or(0);
    }

private:
    static constexpr unsigned kTs = 1, kImport = 2, kExport = 4, kMinPower = 8;
};

// The rule engine's (pipeline/rule_engine.hpp): a few numbers and the state of each rule.
struct RuleState {
    struct Firing {
        std::int64_t since_ms = 0;
        double threshold = 0;
    };
    const std::string* user_id = NamePool::empty();  // of the reading that resolved `rules`
    const std::string* type = NamePool::empty();
    const RuleSet* rules = nullptr;       // shared by every device with the same layers; null: not resolved
    std::int64_t last_ts_ms = INT64_MIN;  // newest reading evaluated
    std::int64_t last_seen_ms = INT64_MIN;
    std::int64_t above_since_ms = -1;
    std::int64_t day_start_ms = 0, day_end_ms = 0;
    double day_wh = 0;
    double last_power_w = 0;
    std::int64_t last_power_ts_ms = -1;
    double baseline_w = 0;
    std::int64_t baseline_start_ms = -1;
    std::array<Firing, kRuleKindCount> firing_state{};  // meaningful while the rule's bit is set
    std::uint8_t firing_bits = 0;                       // one per RuleKind

    bool firing(RuleKind rule) const { return firing_bits & bit(rule); }
    void set_firing(RuleKind rule, bool on) {
        firing_bits = static_cast<std::uint8_t>(on ? firing_bits | bit(rule) : firing_bits & ~bit(rule));
    }
    Firing& of(RuleKind rule) { return firing_state[static_cast<std::size_t>(rule)]; }

private:
    static constexpr unsigned bit(RuleKind rule) { return 1u << static_cast<unsigned>(rule); }
};

// The announcer's (pipeline/device_announcer.hpp): what was published for a (sub-)device since
// the hub last connected to the broker.
struct AnnouncedState {
    const std::string* user_id = NamePool::empty();  // whose topics the availability went to
    std::int8_t availability = -1;                   // -1: not published yet, 0: offline, 1: online
    std::uint16_t sensors = 0;                       // Home Assistant sensors announced (ha_bit)
    std::uint32_t connection = 0;                    // the connection the two above were sent on
};

struct DeviceSlot {
    OwnerState owner;
    RuleState rules;
    AnnouncedState announced;
};

class DeviceTable {
public:
    // Holds at least kMinCapacity devices, so every channel of one message fits at once.
    static constexpr std::size_t kMinCapacity = 64;

    explicit DeviceTable(std::size_t capacity) : slots_(std::max(capacity, kMinCapacity)) {}

    // Null if absent; a hit becomes the most recently used device.
    DeviceSlot* find(const std::string& device_id) { return slots_.find(device_id); }
    // The device's slot, added (empty) if absent.
    DeviceSlot& get(const std::string& device_id) {
        DeviceSlot* s = slots_.find(device_id);
        return s ? *s : slots_.put(device_id, DeviceSlot{});
    }
    // Every slot, least recent first, without touching their recency.
    template <typename F>
    void for_each(F&& f) {
        slots_.for_each(f);
    }
    // f(id, slot) for the device and each of its channels "<device_id>:<n>" held, by their ids
    // (a registry change must not cost a walk over 100,000 devices).
    template <typename F>
    void for_each_of_device(const std::string& device_id, F&& f) {
        if (DeviceSlot* s = slots_.find(device_id)) f(device_id, *s);
        for (unsigned n = 0; n <= kMaxChannel; ++n) {
            if (DeviceSlot* s = slots_.find(assign_channel_id(key_, device_id, n))) f(key_, *s);
        }
    }
    // Forgets a device and its channels (a removed device).
    void erase_with_channels(const std::string& device_id) {
        slots_.erase(device_id);
        for (unsigned n = 0; n <= kMaxChannel; ++n) {
            slots_.erase(assign_channel_id(key_, device_id, n));
        }
    }

    // Owners, types and time zones: many devices share each.
    const std::string* intern(std::string_view name) { return names_.intern(name); }

    std::size_t size() const { return slots_.size(); }
    std::size_t capacity() const { return slots_.capacity(); }

private:
    LruCache<std::string, DeviceSlot> slots_;
    NamePool names_;
    std::string key_;  // reused channel id
};

}  // namespace energyhub
