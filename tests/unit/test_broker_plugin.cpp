// The broker plugin's logic, offline: topic rules per role, the payload guard, the credential
// cache, the directory and the options. The plugin itself is exercised against a real Mosquitto
// in tests/integration/broker_plugin*.sh.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

#include "broker/auth_cache.hpp"
#include "broker/client_ids.hpp"
#include "broker/directory.hpp"
#include "broker/log.hpp"
#include "broker/options.hpp"
#include "broker/payload_guard.hpp"
#include "broker/policy.hpp"
#include "security/password.hpp"

using namespace energyhub::broker;

namespace {

Options defaults() { return parse_options({{"postgres_dsn", "postgresql:///x"}}); }

}  // namespace

BOOST_AUTO_TEST_SUITE(broker_topics)

BOOST_AUTO_TEST_CASE(plain_matching_follows_mqtt) {
    struct Case {
        const char* filter;
        const char* topic;
        bool match;
    };
    for (auto c : {Case{"a/b", "a/b", true}, Case{"a/+", "a/b", true}, Case{"a/+", "a/b/c", false}, Case{"a/#", "a", true},
                   Case{"a/#", "a/b/c", true}, Case{"#", "a/b", true}, Case{"+/+", "/x", true}, Case{"+", "", true},
                   Case{"#", "$SYS/x", false}, Case{"+/x", "$SYS/x", false}, Case{"$SYS/#", "$SYS/x", true},
                   Case{"a/b", "a/b/", false}, Case{"a/+/c", "a//c", true}, Case{"a", "a/b", false}})
        BOOST_TEST(topic_matches(c.filter, c.topic) == c.match, c.filter << " vs " << c.topic);
}

BOOST_AUTO_TEST_CASE(devices_publish_only_their_own_reading_topics) {
    Policy p(defaults());
    for (const char* t : {"energy/plug1/reading", "tele/plug1/SENSOR", "tele/plug1/STATE", "tele/plug1/LWT",
                          "plug1/status/switch:0", "plug1/online", "plug1/events/rpc", "shellies/plug1/relay/0/power"})
        BOOST_TEST(p.may_publish(Role::device, "plug1", t), t);
    for (const char* t : {"energy/plug2/reading", "energy/plug1/reading/x", "tele/plug1/INFO1", "plug2/status/switch:0",
                          "energy/alice/plug1/state", "alerts/alice/plug1", "energyhub/status/hub", "cmnd/plug1/POWER",
                          "shellies/plug2/relay/0", "#", "plug1"})
        BOOST_TEST(!p.may_publish(Role::device, "plug1", t), t);
}

BOOST_AUTO_TEST_CASE(devices_read_only_their_own_command_topics) {
    Policy p(defaults());
    for (const char* f : {"cmnd/plug1/#", "cmnd/plug1/POWER", "cmnd/plug1/+", "plug1/rpc", "plug1/command", "plug1/command/#",
                          "shellies/plug1/relay/0/command", "shellies/command", "$share/g/cmnd/plug1/#"})
        BOOST_TEST(p.may_subscribe(Role::device, "plug1", f), f);
    for (const char* f : {"cmnd/+/#", "cmnd/#", "#", "+/rpc", "energy/+/reading", "plug2/rpc", "shellies/#", "$SYS/#"})
        BOOST_TEST(!p.may_subscribe(Role::device, "plug1", f), f);
    BOOST_TEST(p.may_read(Role::device, "plug1", "cmnd/plug1/POWER"));
    BOOST_TEST(!p.may_read(Role::device, "plug1", "cmnd/plug2/POWER"));
}

BOOST_AUTO_TEST_CASE(a_device_named_like_a_tree_gets_no_shelly_gen2_topics) {
    Policy p(defaults());
    BOOST_TEST(!p.may_publish(Role::device, "energyhub", "energyhub/status/hub"));
    BOOST_TEST(!p.may_publish(Role::device, "alerts", "alerts/online"));
    BOOST_TEST(!p.may_publish(Role::device, "homeassistant", "homeassistant/status/x"));
    BOOST_TEST(p.may_publish(Role::device, "energyhub", "energy/energyhub/reading"));  // its other topics stay
}

BOOST_AUTO_TEST_CASE(service_accounts_get_what_their_daemon_needs) {
    Policy p(defaults());
    for (const char* f : {"energy/+/reading", "tele/+/SENSOR", "tele/+/STATE", "tele/+/LWT", "+/status/#", "+/online",
                          "+/events/rpc", "shellies/#", "$share/hubs/energy/+/reading", "energy/plug1/reading"})
        BOOST_TEST(p.may_subscribe(Role::hub, "", f), f);
    for (const char* f : {"#", "energy/#", "alerts/#", "cmnd/#", "$SYS/#", "+/+/reading"})
        BOOST_TEST(!p.may_subscribe(Role::hub, "", f), f);
    for (const char* t : {"energy/alice/plug1/state", "energy/alice/plug1/availability", "energyhub/deadletter",
                          "energyhub/status/hub", "alerts/alice/plug1",
                          "homeassistant/sensor/plug1/config"})
        BOOST_TEST(p.may_publish(Role::hub, "", t), t);
    for (const char* t : {"energy/plug1/reading", "energyhub/status/notifier", "insights/alice", "cmnd/plug1/POWER"})
        BOOST_TEST(!p.may_publish(Role::hub, "", t), t);

    BOOST_TEST(p.may_subscribe(Role::notifier, "", "alerts/#"));
    BOOST_TEST(p.may_publish(Role::notifier, "", "energyhub/status/notifier"));
    BOOST_TEST(!p.may_publish(Role::notifier, "", "alerts/alice/plug1"));
    BOOST_TEST(!p.may_subscribe(Role::notifier, "", "energy/+/reading"));

    BOOST_TEST(p.may_subscribe(Role::insights, "", "alerts/+/+"));
    BOOST_TEST(p.may_publish(Role::insights, "", "insights/alice"));
    BOOST_TEST(p.may_publish(Role::insights, "", "energyhub/status/insights"));
    BOOST_TEST(!p.may_publish(Role::insights, "", "energyhub/status/hub"));
}

BOOST_AUTO_TEST_CASE(dashboards_read_their_user_only) {
    Policy p(defaults());
    for (const char* t : {"energy/alice/plug1/state", "alerts/alice/plug1", "insights/alice", "energyhub/status/hub",
                          "homeassistant/sensor/plug1/config"})
        BOOST_TEST(p.may_read(Role::dashboard, "alice", t), t);
    for (const char* t : {"energy/bob/plug1/state", "alerts/bob/plug1", "insights/bob", "insights/alice/x",
                          "energy/alice/reading", "energy/plug1/reading", "energyhub/deadletter"})
        BOOST_TEST(!p.may_read(Role::dashboard, "alice", t), t);
    for (const char* f : {"energy/alice/#", "energy/alice/+/state", "alerts/alice/#", "insights/alice", "energyhub/status/#",
                          "homeassistant/#"})
        BOOST_TEST(p.may_subscribe(Role::dashboard, "alice", f), f);
    for (const char* f : {"energy/#", "energy/+/+/state", "alerts/#", "insights/+", "#", "energy/alice/reading"})
        BOOST_TEST(!p.may_subscribe(Role::dashboard, "alice", f), f);
    BOOST_TEST(!p.may_publish(Role::dashboard, "alice", "energy/alice/plug1/state"));
    BOOST_TEST(!p.may_publish(Role::dashboard, "alice", "homeassistant/status"));

    auto o = defaults();
    o.dashboard_discovery = false;
    BOOST_TEST(!Policy(o).may_subscribe(Role::dashboard, "alice", "homeassistant/#"));
}

BOOST_AUTO_TEST_CASE(anonymous_reads_status_only) {
    Policy p(defaults());
    BOOST_TEST(p.may_subscribe(Role::anonymous, "", "energyhub/status/#"));
    BOOST_TEST(!p.may_subscribe(Role::anonymous, "", "energy/#"));
    BOOST_TEST(!p.may_publish(Role::anonymous, "", "energy/plug1/reading"));
}

BOOST_AUTO_TEST_CASE(prefixes_come_from_the_options) {
    auto o = parse_options({{"postgres_dsn", "x"}, {"reading_prefix", "home/power"}, {"status_prefix", "hub/st"}});
    Policy p(o);
    BOOST_TEST(p.may_publish(Role::device, "plug1", "home/power/plug1/reading"));
    BOOST_TEST(!p.may_publish(Role::device, "plug1", "energy/plug1/reading"));
    BOOST_TEST(p.may_publish(Role::hub, "", "hub/st/hub"));
    BOOST_TEST(p.is_reserved_first_level("home"));
}

BOOST_AUTO_TEST_CASE(device_topics_are_classified_for_the_guard) {
    Policy p(defaults());
    auto t = p.device_topic("energy/plug1/reading");
    BOOST_TEST_REQUIRE(t.has_value());
    BOOST_TEST(t->device_id == "plug1");
    BOOST_TEST((t->guard == Guard::json));
    BOOST_TEST((p.device_topic("tele/m1/LWT")->guard == Guard::size));
    BOOST_TEST((p.device_topic("tele/m1/SENSOR")->guard == Guard::json));
    BOOST_TEST((p.device_topic("sh1/status/switch:0")->guard == Guard::json));
    BOOST_TEST(p.device_topic("sh1/status/switch:0")->device_id == "sh1");
    BOOST_TEST((p.device_topic("sh1/online")->guard == Guard::size));
    BOOST_TEST((p.device_topic("shellies/s1/relay/0/power")->guard == Guard::size));
    BOOST_TEST(!p.device_topic("energyhub/status/hub"));  // a daemon's status, not a Shelly
    BOOST_TEST(!p.device_topic("energy/alice/plug1/state"));
    BOOST_TEST(!p.device_topic("alerts/alice/plug1"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(broker_options)

BOOST_AUTO_TEST_CASE(defaults_and_overrides) {
    auto o = defaults();
    BOOST_TEST(!o.allow_anonymous);
    BOOST_TEST(o.max_payload == 16384u);
    BOOST_TEST(o.refresh_interval.count() == 1000);
    BOOST_TEST(o.full_reload_interval.count() == 60000);
    o = parse_options({{"postgres_dsn", "x"},
                       {"allow_anonymous", "true"},
                       {"max_payload", "4KB"},
                       {"rate_per_device", "2.5"},
                       {"rate_burst", "5"},
                       {"refresh_interval", "500ms"},
                       {"full_reload_interval", "0s"},
                       {"discovery_prefix", ""}});
    BOOST_TEST(o.allow_anonymous);
    BOOST_TEST(o.max_payload == 4096u);
    BOOST_TEST(o.rate_per_device == 2.5);
    BOOST_TEST(o.full_reload_interval.count() == 0);
    BOOST_TEST(o.discovery_prefix.empty());
}

BOOST_AUTO_TEST_CASE(mistakes_name_the_option) {
    auto fails_with = [](std::vector<std::pair<std::string, std::string>> pairs, const std::string& want) {
        try {
            parse_options(pairs);
        } catch (const OptionError& e) {
            BOOST_TEST(std::string(e.what()).find(want) != std::string::npos, e.what() << " lacks " << want);
            return;
        }
        BOOST_FAIL("no error for " + want);
    };
    fails_with({}, "plugin_opt_postgres_dsn: is required");
    fails_with({{"postgres_dsn", "x"}, {"max_paylod", "1"}}, "plugin_opt_max_paylod: unknown option");
    fails_with({{"postgres_dsn", "x"}, {"redis_uri", "redis://x"}}, "plugin_opt_redis_uri: is not used by the plugin");
    fails_with({{"postgres_dsn", "x"}, {"allow_anonymous", "yes"}}, "plugin_opt_allow_anonymous");
    fails_with({{"postgres_dsn", "x"}, {"refresh_interval", "1"}}, "plugin_opt_refresh_interval");
    fails_with({{"postgres_dsn", "x"}, {"refresh_interval", "0s"}}, "plugin_opt_refresh_interval");
    fails_with({{"postgres_dsn", "x"}, {"reading_prefix", "energy/+"}}, "wildcards");
    fails_with({{"postgres_dsn", "x"}, {"status_prefix", "a//b"}}, "empty topic level");
    fails_with({{"postgres_dsn", "x"}, {"rate_per_device", "-1"}}, "plugin_opt_rate_per_device");
    fails_with({{"postgres_dsn", "x"}, {"max_payload", "0"}}, "plugin_opt_max_payload");
    fails_with({{"postgres_dsn", "x"}, {"postgres_dsn", "y"}}, "given twice");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(broker_payload_guard)

using Clock = PayloadGuard::Clock;

BOOST_AUTO_TEST_CASE(size_and_json_objects) {
    PayloadGuard g(64, 0, 10);
    auto now = Clock::now();
    auto check = [&](Guard guard, const std::string& payload) { return g.check(guard, "d", payload.data(), payload.size(), now); };
    BOOST_TEST((check(Guard::json, R"({"power_w":1.5,"x":[1,{"y":null}]})") == Verdict::pass));
    BOOST_TEST((check(Guard::json, " { } ") == Verdict::pass));
    for (const char* bad : {"", "[1,2]", "42", "\"s\"", "null", "{\"power_w\":", "{} {}", "{\"a\":1}x", "{'a':1}", "\xff"})
        BOOST_TEST((check(Guard::json, bad) == Verdict::not_json), bad);
    BOOST_TEST((check(Guard::json, "{\"a\":\"" + std::string(100, 'x') + "\"}") == Verdict::oversize));
    BOOST_TEST((check(Guard::size, "Online") == Verdict::pass));
    BOOST_TEST((check(Guard::size, std::string(65, 'x')) == Verdict::oversize));
    BOOST_TEST((check(Guard::size, std::string(64, 'x')) == Verdict::pass));
    BOOST_TEST((check(Guard::none, std::string(1000, 'x')) == Verdict::pass));
}

BOOST_AUTO_TEST_CASE(token_bucket_per_device) {
    PayloadGuard g(1024, 2.0, 3);  // 2 per second, bursts of 3
    auto t0 = Clock::now();
    std::string p = "{}";
    auto send = [&](const char* device, Clock::time_point at) { return g.check(Guard::json, device, p.data(), p.size(), at); };
    for (int i = 0; i < 3; ++i) BOOST_TEST((send("a", t0) == Verdict::pass));
    BOOST_TEST((send("a", t0) == Verdict::rate_limited));
    BOOST_TEST((send("b", t0) == Verdict::pass));  // another device has its own bucket
    BOOST_TEST((send("a", t0 + std::chrono::milliseconds(499)) == Verdict::rate_limited));
    BOOST_TEST((send("a", t0 + std::chrono::milliseconds(501)) == Verdict::pass));
    BOOST_TEST((send("a", t0 + std::chrono::seconds(60)) == Verdict::pass));
    g.prune(t0 + std::chrono::seconds(120));
    BOOST_TEST(g.tracked_devices() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(broker_auth_cache)

BOOST_AUTO_TEST_CASE(pbkdf2_runs_once_per_password_and_hash) {
    int slow = 0;
    AuthCache cache([&](std::string_view pw, std::string_view hash) {
        ++slow;
        return energyhub::verify_password(pw, hash);
    });
    auto h1 = energyhub::hash_password("secret-1");
    for (int i = 0; i < 5; ++i) BOOST_TEST(cache.check("plug1", "secret-1", h1));
    BOOST_TEST(slow == 1);
    BOOST_TEST(!cache.check("plug1", "secret-2", h1));  // a different password is verified, and fails
    BOOST_TEST(!cache.check("plug1", "secret-2", h1));  // ... and is remembered as wrong
    BOOST_TEST(slow == 2);
    BOOST_TEST(cache.check("plug1", "secret-1", h1));
    BOOST_TEST(!cache.check("plug2", "secret-1", energyhub::hash_password("other")));
    auto h2 = energyhub::hash_password("secret-1");  // a new secret: the old check no longer counts
    BOOST_TEST(cache.check("plug1", "secret-1", h2));
    BOOST_TEST(slow == 4);
    BOOST_TEST(cache.cached_checks() == 6u);
}

BOOST_AUTO_TEST_CASE(stays_bounded) {
    int slow = 0;
    AuthCache cache([&](std::string_view, std::string_view) { return ++slow > 0; }, 3);
    for (int i = 0; i < 10; ++i) BOOST_TEST(cache.check("u" + std::to_string(i), "pw", "$7$h"));
    BOOST_TEST(cache.check("u9", "pw", "$7$h"));
    BOOST_TEST(slow == 10);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(broker_client_ids)

BOOST_AUTO_TEST_CASE(a_client_id_belongs_to_one_account) {
    ClientIds ids("energyhub-", 100);
    BOOST_TEST(ids.claim("hub-a", "hub", Role::hub) == nullptr);
    BOOST_TEST(ids.claim("hub-a", "hub", Role::hub) == nullptr);  // the same account reconnects
    BOOST_TEST(ids.claim("hub-a", "plug1", Role::device) != nullptr);  // a device cannot take the hub's session
    BOOST_TEST(ids.claim("hub-a", "dash", Role::dashboard) != nullptr);
    BOOST_TEST(ids.claim("plug1", "plug1", Role::device) == nullptr);
    BOOST_TEST(ids.claim("plug1", "plug2", Role::device) != nullptr);  // nor another device's
    BOOST_TEST(ids.claim("", "", Role::anonymous) == nullptr);
}

BOOST_AUTO_TEST_CASE(the_daemons_prefix_is_for_service_accounts) {
    ClientIds ids("energyhub-", 100);
    // Before the hub has ever connected (a broker just restarted), its default id is still its own.
    BOOST_TEST(std::string(ids.claim("energyhub-hub", "plug1", Role::device)) == "client id reserved for the energyhub daemons");
    BOOST_TEST(ids.claim("energyhub-hub", "", Role::anonymous) != nullptr);
    BOOST_TEST(ids.claim("energyhub-hub", "svc", Role::hub) == nullptr);
    BOOST_TEST(ids.claim("energyhub-notifier", "svc2", Role::notifier) == nullptr);
    ClientIds open_ids("", 100);
    BOOST_TEST(open_ids.claim("energyhub-hub", "plug1", Role::device) == nullptr);
}

BOOST_AUTO_TEST_CASE(bindings_end_with_the_account_and_are_bounded) {
    ClientIds ids("energyhub-", 2);
    BOOST_TEST(ids.claim("a", "plug1", Role::device) == nullptr);
    BOOST_TEST(ids.claim("b", "plug1", Role::device) == nullptr);
    BOOST_TEST(ids.claim("c", "plug2", Role::device) == nullptr);  // full: not bound
    BOOST_TEST(ids.size() == 2u);
    BOOST_TEST(ids.claim("c", "plug3", Role::device) == nullptr);
    BOOST_TEST(ids.claim("hub-x", "hub", Role::hub) == nullptr);  // services are always bound
    BOOST_TEST(ids.claim("hub-x", "plug3", Role::device) != nullptr);
    ids.release("plug1");  // removed from the registry
    BOOST_TEST(ids.claim("a", "plug2", Role::device) == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(broker_directory)

Principal device(const std::string& hash) {
    Principal p;
    p.role = Role::device;
    p.secret_hash = hash;
    p.user_id = "alice";
    return p;
}

BOOST_AUTO_TEST_CASE(changes_make_a_new_directory_and_report_revocations) {
    Directory::Map all;
    for (int i = 0; i < 200; ++i) all.emplace("d" + std::to_string(i), device("h" + std::to_string(i)));
    auto v1 = std::make_shared<const Directory>(std::move(all));
    BOOST_TEST(v1->size() == 200u);
    BOOST_TEST(v1->find("d7")->secret_hash == "h7");
    BOOST_TEST(!v1->find("nobody"));

    std::vector<std::string> revoked;
    auto v2 = v1->apply({{"d7", std::nullopt}, {"d8", device("new")}, {"d9", device("h9")}, {"x", device("hx")}}, &revoked);
    BOOST_TEST(v2->size() == 200u);
    BOOST_TEST(!v2->find("d7"));
    BOOST_TEST(v2->find("d8")->secret_hash == "new");
    BOOST_TEST(v2->find("x"));
    BOOST_TEST(v1->find("d7"));  // the old one is untouched: readers holding it are safe
    BOOST_TEST(v1->find("d8")->secret_hash == "h8");
    std::sort(revoked.begin(), revoked.end());
    BOOST_TEST(revoked == (std::vector<std::string>{"d7", "d8"}));  // d9 is unchanged, x is new

    auto again = v1->revoked_in(*v2);
    std::sort(again.begin(), again.end());
    BOOST_TEST(again == revoked);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(broker_log)

BOOST_AUTO_TEST_CASE(limiter_counts_what_it_suppressed) {
    LogLimiter limiter(2, std::chrono::seconds(60));
    auto t0 = LogLimiter::Clock::now();
    std::uint64_t suppressed = 99;
    BOOST_TEST(limiter.allow("auth", t0, &suppressed));
    BOOST_TEST(suppressed == 0u);
    BOOST_TEST(limiter.allow("auth", t0, &suppressed));
    BOOST_TEST(!limiter.allow("auth", t0, &suppressed));
    BOOST_TEST(!limiter.allow("auth", t0, &suppressed));
    BOOST_TEST(limiter.allow("guard", t0, &suppressed));  // kinds are independent
    BOOST_TEST(limiter.allow("auth", t0 + std::chrono::seconds(61), &suppressed));
    BOOST_TEST(suppressed == 2u);
}

BOOST_AUTO_TEST_CASE(queue_is_bounded) {
    LogQueue q(2);
    q.push(LogLevel::info, "a");
    q.push(LogLevel::info, "b");
    q.push(LogLevel::warning, "c");
    std::uint64_t dropped = 0;
    auto lines = q.take(&dropped);
    BOOST_TEST(lines.size() == 2u);
    BOOST_TEST(lines.back().text == "c");
    BOOST_TEST(dropped == 1u);
    BOOST_TEST(q.take(&dropped).empty());
}

BOOST_AUTO_TEST_SUITE_END()
