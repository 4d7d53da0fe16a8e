// energyhub's Mosquitto plugin (plugin API version 5, Mosquitto 2.0): device and account
// authentication against the registry in PostgreSQL, topic ACLs, and the payload guard on device
// reading topics (publishes and last wills alike). This file is the boundary with the broker: the
// three exported functions and the event callbacks. No C++ exception crosses it; every callback
// answers from memory (the Directory the refresher thread keeps current), so the broker's single
// network thread never waits for the database.
#include <mosquitto.h>
#include <mosquitto_broker.h>
#pragma GCC visibility push(default)
#include <mosquitto_plugin.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#pragma GCC visibility pop

#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/auth_cache.hpp"
#include "broker/client_ids.hpp"
#include "broker/directory.hpp"
#include "broker/log.hpp"
#include "broker/options.hpp"
#include "broker/payload_guard.hpp"
#include "broker/policy.hpp"
#include "broker/refresher.hpp"

namespace energyhub::broker {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr auto kSummaryInterval = std::chrono::seconds(60);
constexpr std::size_t kLogBurst = 5;  // per kind of message and minute
constexpr auto kLogWindow = std::chrono::seconds(60);

int mosq_level(LogLevel level) {
    switch (level) {
    case LogLevel::debug: return MOSQ_LOG_DEBUG;
    case LogLevel::info: return MOSQ_LOG_INFO;
    case LogLevel::notice: return MOSQ_LOG_NOTICE;
    case LogLevel::warning: return MOSQ_LOG_WARNING;
    case LogLevel::error: return MOSQ_LOG_ERR;
    }
    return MOSQ_LOG_INFO;
}

void log_line(LogLevel level, const std::string& text) { mosquitto_log_printf(mosq_level(level), "%s", text.c_str()); }

// Client-supplied strings (usernames, topics) in the log: bounded, and nothing that could forge
// a log line.
std::string printable(const char* s, std::size_t max = 96) {
    if (!s) return "(none)";
    std::string out;
    for (std::size_t i = 0; s[i] && out.size() < max; ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
    }
    if (std::strlen(s) > max) out += "...";
    return out;
}

struct Counters {
    std::uint64_t logins = 0;
    std::uint64_t anonymous = 0;
    std::uint64_t refused = 0;
    std::uint64_t publish_denied = 0;
    std::uint64_t subscribe_denied = 0;
    std::uint64_t read_denied = 0;
    std::uint64_t guard_passed = 0;
    std::uint64_t oversize = 0;
    std::uint64_t not_json = 0;
    std::uint64_t rate_limited = 0;
    bool operator==(const Counters&) const = default;
};

// Everything the callbacks use; created at init and handed to the broker as userdata.
struct Plugin {
    Plugin(mosquitto_plugin_id_t* id_, Options options_)
        : id(id_),
          options(std::move(options_)),
          policy(options),
          refresher(options, log_queue),
          guard(options.max_payload, options.rate_per_device, options.rate_burst),
          client_ids(options.service_client_prefix, options.max_client_ids) {}

    mosquitto_plugin_id_t* id;
    Options options;
    Policy policy;
    LogQueue log_queue;
    Refresher refresher;
    AuthCache auth;
    PayloadGuard guard;
    ClientIds client_ids;
    LogLimiter limiter{kLogBurst, kLogWindow};
    Counters counters;
    Counters reported;
    SteadyClock::time_point last_summary = SteadyClock::now();

    // A per-event line, at most kLogBurst per kind and minute.
    template <typename... Args>
    void limited(std::string_view kind, int level, const char* fmt, Args... args) {
        std::uint64_t suppressed = 0;
        if (!limiter.allow(kind, SteadyClock::now(), &suppressed)) return;
        std::string line = std::string("energyhub: ") + fmt;
        if (suppressed) line += " (" + std::to_string(suppressed) + " similar lines suppressed)";
        mosquitto_log_printf(level, line.c_str(), args...);
    }

    void drain_log() {
        std::uint64_t dropped = 0;
        for (const auto& line : log_queue.take(&dropped)) log_line(line.level, line.text);
        if (dropped) log_line(LogLevel::warning, "energyhub: " + std::to_string(dropped) + " log lines dropped");
    }

    void summary(bool force) {
        if (!force && counters == reported) return;
        mosquitto_log_printf(MOSQ_LOG_INFO,
                             "energyhub: logins ok=%llu anonymous=%llu refused=%llu (pbkdf2=%llu cached=%llu); denied "
                             "publish=%llu subscribe=%llu read=%llu; payload guard passed=%llu oversize=%llu "
                             "not_json=%llu rate_limited=%llu; registry %zu",
                             static_cast<unsigned long long>(counters.logins), static_cast<unsigned long long>(counters.anonymous),
                             static_cast<unsigned long long>(counters.refused), static_cast<unsigned long long>(auth.slow_checks()),
                             static_cast<unsigned long long>(auth.cached_checks()),
                             static_cast<unsigned long long>(counters.publish_denied),
                             static_cast<unsigned long long>(counters.subscribe_denied),
                             static_cast<unsigned long long>(counters.read_denied),
                             static_cast<unsigned long long>(counters.guard_passed),
                             static_cast<unsigned long long>(counters.oversize),
                             static_cast<unsigned long long>(counters.not_json),
                             static_cast<unsigned long long>(counters.rate_limited), refresher.directory()->size());
        reported = counters;
    }
};

// Who a connected client is, for the policy: nullopt when it may do nothing at all.
struct Identity {
    Role role;
    std::string_view id;
};

std::optional<Identity> identify(const Plugin& p, const Directory& dir, const char* username) {
    if (!username) {
        if (!p.options.allow_anonymous) return std::nullopt;
        return Identity{Role::anonymous, {}};
    }
    const Principal* who = dir.find(username);
    if (!who || who->conflict) return std::nullopt;
    return Identity{who->role, who->policy_id(username)};
}

// A device on a listener with require_certificate and use_identity_as_username logs in without a
// password: Mosquitto verified its certificate against the listener's cafile, and the user name
// is the certificate's common name. The name is checked against the certificate here too, so a
// listener without use_identity_as_username cannot be used to log in as another device.
bool certified_device(mosquitto* client, const char* username, const Principal& who) {
    if (who.role != Role::device) return false;
    auto* cert = static_cast<X509*>(mosquitto_client_certificate(client));
    if (!cert) return false;
    char cn[256] = {0};
    const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    X509_free(cert);
    return n > 0 && static_cast<std::size_t>(n) < sizeof cn && std::strcmp(cn, username) == 0;
}

int on_basic_auth(int, void* event_data, void* userdata) {
    try {
        auto& p = *static_cast<Plugin*>(userdata);
        auto* ed = static_cast<mosquitto_evt_basic_auth*>(event_data);
        const char* address = mosquitto_client_address(ed->client);
        const char* client_id = mosquitto_client_id(ed->client);
        if (!ed->username) {
            if (p.options.allow_anonymous) {
                if (const char* why = p.client_ids.claim(client_id ? client_id : "", "", Role::anonymous)) {
                    ++p.counters.refused;
                    p.limited("auth", MOSQ_LOG_NOTICE, "refused anonymous login from %s: %s", printable(address).c_str(), why);
                    return MOSQ_ERR_AUTH;
                }
                ++p.counters.anonymous;
                return MOSQ_ERR_SUCCESS;
            }
            ++p.counters.refused;
            p.limited("auth", MOSQ_LOG_NOTICE, "refused anonymous login from %s", printable(address).c_str());
            return MOSQ_ERR_AUTH;
        }
        auto dir = p.refresher.directory();
        const Principal* who = dir->find(ed->username);
        const char* reason = nullptr;
        if (!who) reason = p.refresher.loaded() ? "unknown username" : "registry not loaded yet";
        else if (who->conflict) reason = "name is both a device and an account";
        else if (!ed->password)
            reason = certified_device(ed->client, ed->username, *who) ? nullptr : "no password";
        else if (!p.auth.check(ed->username, ed->password, who->secret_hash)) reason = "wrong password";
        else reason = p.client_ids.claim(client_id ? client_id : "", ed->username, who->role);
        if (!reason) {
            ++p.counters.logins;
            return MOSQ_ERR_SUCCESS;
        }
        ++p.counters.refused;
        p.limited("auth", MOSQ_LOG_NOTICE, "refused login of '%s' from %s: %s", printable(ed->username).c_str(),
                  printable(address).c_str(), reason);
        return MOSQ_ERR_AUTH;
    } catch (...) {
        return MOSQ_ERR_AUTH;
    }
}

// The payload guard on a device's reading topic: size, JSON shape, rate. It runs in the ACL
// check of every write, which Mosquitto makes with the payload both for a PUBLISH and for a last
// will as the broker sends it, so a will passes the same guard as a publish.
int guard(Plugin& p, const char* topic_name, const void* payload, std::uint32_t payloadlen) {
    auto topic = p.policy.device_topic(topic_name);
    if (!topic || topic->guard == Guard::none) return MOSQ_ERR_SUCCESS;
    auto verdict = p.guard.check(topic->guard, topic->device_id, payload, payloadlen, SteadyClock::now());
    switch (verdict) {
    case Verdict::pass: ++p.counters.guard_passed; return MOSQ_ERR_SUCCESS;
    case Verdict::oversize: ++p.counters.oversize; break;
    case Verdict::not_json: ++p.counters.not_json; break;
    case Verdict::rate_limited: ++p.counters.rate_limited; break;
    }
    std::string device(topic->device_id);
    p.limited(to_string(verdict), MOSQ_LOG_WARNING, "dropped message on '%s' (device '%s', %u bytes): %s",
              printable(topic_name).c_str(), printable(device.c_str()).c_str(), static_cast<unsigned>(payloadlen),
              to_string(verdict));
    return MOSQ_ERR_ACL_DENIED;  // the broker drops it (MQTT 5: PUBACK "not authorized"), or the will
}

int on_acl_check(int, void* event_data, void* userdata) {
    try {
        auto& p = *static_cast<Plugin*>(userdata);
        auto* ed = static_cast<mosquitto_evt_acl_check*>(event_data);
        if (!ed->topic) return MOSQ_ERR_ACL_DENIED;
        if (ed->access == MOSQ_ACL_UNSUBSCRIBE) return MOSQ_ERR_SUCCESS;  // dropping access is always fine
        const char* username = mosquitto_client_username(ed->client);
        auto dir = p.refresher.directory();
        auto who = identify(p, *dir, username);
        bool allowed = false;
        if (who) {
            switch (ed->access) {
            case MOSQ_ACL_SUBSCRIBE: allowed = p.policy.may_subscribe(who->role, who->id, ed->topic); break;
            case MOSQ_ACL_READ: allowed = p.policy.may_read(who->role, who->id, ed->topic); break;
            case MOSQ_ACL_WRITE: allowed = p.policy.may_publish(who->role, who->id, ed->topic); break;
            default: break;
            }
        }
        if (allowed) return ed->access == MOSQ_ACL_WRITE ? guard(p, ed->topic, ed->payload, ed->payloadlen) : MOSQ_ERR_SUCCESS;
        switch (ed->access) {
        case MOSQ_ACL_SUBSCRIBE:
            ++p.counters.subscribe_denied;
            p.limited("subscribe", MOSQ_LOG_NOTICE, "denied subscription of '%s' to '%s'", printable(username).c_str(),
                      printable(ed->topic).c_str());
            break;
        case MOSQ_ACL_WRITE:
            ++p.counters.publish_denied;
            p.limited("publish", MOSQ_LOG_NOTICE, "denied publish of '%s' to '%s'", printable(username).c_str(),
                      printable(ed->topic).c_str());
            break;
        default:
            ++p.counters.read_denied;  // one per message not delivered: counted, not logged
            break;
        }
        return MOSQ_ERR_ACL_DENIED;
    } catch (...) {
        return MOSQ_ERR_ACL_DENIED;
    }
}

int on_tick(int, void*, void* userdata) {
    try {
        auto& p = *static_cast<Plugin*>(userdata);
        p.drain_log();
        for (const auto& name : p.refresher.take_revoked()) {
            p.client_ids.release(name);
            if (mosquitto_kick_client_by_username(name.c_str(), false) == MOSQ_ERR_SUCCESS)
                p.limited("kick", MOSQ_LOG_INFO, "closed the sessions of '%s': its registry entry changed", printable(name.c_str()).c_str());
        }
        auto now = SteadyClock::now();
        if (now - p.last_summary >= kSummaryInterval) {
            p.last_summary = now;
            p.summary(false);
            p.guard.prune(now);
        }
    } catch (...) {
    }
    return MOSQ_ERR_SUCCESS;
}

int on_reload(int, void*, void* userdata) {
    try {
        auto& p = *static_cast<Plugin*>(userdata);
        p.refresher.request_full_reload();
        mosquitto_log_printf(MOSQ_LOG_INFO, "energyhub: reloading the registry (options are read only at start)");
        p.summary(true);  // the counters on demand, e.g. for a status check
    } catch (...) {
    }
    return MOSQ_ERR_SUCCESS;
}

struct Registration {
    int event;
    MOSQ_FUNC_generic_callback callback;
};
constexpr Registration kCallbacks[] = {
    {MOSQ_EVT_BASIC_AUTH, on_basic_auth},
    {MOSQ_EVT_ACL_CHECK, on_acl_check},
    {MOSQ_EVT_TICK, on_tick},
    {MOSQ_EVT_RELOAD, on_reload},
};

void unregister(mosquitto_plugin_id_t* id, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) mosquitto_callback_unregister(id, kCallbacks[i].event, kCallbacks[i].callback, nullptr);
}

}  // namespace
}  // namespace energyhub::broker

using namespace energyhub::broker;

extern "C" int mosquitto_plugin_version(int supported_version_count, const int* supported_versions) {
    for (int i = 0; i < supported_version_count; ++i) {
        if (supported_versions[i] == 5) return 5;
    }
    return -1;
}

extern "C" int mosquitto_plugin_init(mosquitto_plugin_id_t* identifier, void** userdata, struct mosquitto_opt* opts, int opt_count) {
    try {
        std::vector<std::pair<std::string, std::string>> pairs;
        for (int i = 0; i < opt_count; ++i) pairs.emplace_back(opts[i].key ? opts[i].key : "", opts[i].value ? opts[i].value : "");
        auto plugin = std::make_unique<Plugin>(identifier, parse_options(pairs));
        const auto& o = plugin->options;

        plugin->refresher.start();
        bool loaded = plugin->refresher.wait_first_load(o.db_timeout);
        plugin->drain_log();
        if (!loaded)
            mosquitto_log_printf(MOSQ_LOG_WARNING,
                                 "energyhub: registry not loaded yet: logins are refused until PostgreSQL answers");

        std::size_t registered = 0;
        for (const auto& r : kCallbacks) {
            int rc = mosquitto_callback_register(identifier, r.event, r.callback, nullptr, plugin.get());
            if (rc != MOSQ_ERR_SUCCESS) {
                unregister(identifier, registered);
                mosquitto_log_printf(MOSQ_LOG_ERR, "energyhub: cannot register callback for event %d (error %d)", r.event, rc);
                return rc;
            }
            ++registered;
        }
        mosquitto_log_printf(
            MOSQ_LOG_INFO,
            "energyhub: broker plugin ready: anonymous %s, max payload %zu bytes, rate limit %s, registry "
            "poll every %lld ms",
            o.allow_anonymous ? "allowed" : "refused", o.max_payload,
            o.rate_per_device > 0 ? (std::to_string(o.rate_per_device) + "/s per device").c_str() : "off",
            static_cast<long long>(o.refresh_interval.count()));
        *userdata = plugin.release();
        return MOSQ_ERR_SUCCESS;
    } catch (const OptionError& e) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "energyhub: %s", e.what());
        return MOSQ_ERR_INVAL;
    } catch (const std::exception& e) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "energyhub: cannot start the broker plugin: %s", e.what());
        return MOSQ_ERR_UNKNOWN;
    } catch (...) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "energyhub: cannot start the broker plugin");
        return MOSQ_ERR_UNKNOWN;
    }
}

extern "C" int mosquitto_plugin_cleanup(void* userdata, struct mosquitto_opt*, int) {
    try {
        std::unique_ptr<Plugin> plugin(static_cast<Plugin*>(userdata));
        if (!plugin) return MOSQ_ERR_SUCCESS;
        unregister(plugin->id, std::size(kCallbacks));
        plugin->refresher.stop();
        plugin->drain_log();
        plugin->summary(true);
    } catch (...) {
    }
    return MOSQ_ERR_SUCCESS;
}
