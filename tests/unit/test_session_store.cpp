#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <mqtt/async_client.h>

#include "mqtt/paho_settings.hpp"
#include "mqtt/session_store.hpp"
#include "temp_dir.hpp"

using namespace energyhub;
using energyhub::test::TempDir;
namespace fs = std::filesystem;

namespace {

void put(SessionStore& store, const std::string& key, const std::string& a, const std::string& b) {
    store.put(key, {mqtt::string_view(a), mqtt::string_view(b)});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(session_store)

// What a kill leaves (the log with the space reserved past its last record), copied while the
// store is open, is read back as the entries that were live.
BOOST_AUTO_TEST_CASE(live_entries_survive_a_kill) {
    TempDir dir, copy;
    {
        SessionStore store(dir.path);
        store.open("hub-1", "tcp://x");
        put(store, "s-1", "head", "body-1");
        put(store, "s-2", "head", "body-2");
        store.remove("s-1");
        put(store, "r-7", "in", "bound");
        fs::copy(dir.path, copy.path, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    }
    SessionStore again(copy.path);
    again.open("hub-1", "tcp://x");
    BOOST_TEST(again.size() == 2u);
    BOOST_TEST(!again.contains_key("s-1"));
    BOOST_TEST(again.get("s-2") == "headbody-2");
    BOOST_TEST(again.get("r-7") == "inbound");
    put(again, "s-3", "after", "");
    again.close();
    SessionStore third(copy.path);
    third.open("hub-1", "tcp://x");
    BOOST_TEST(third.size() == 3u);
    BOOST_TEST(third.get("s-3") == "after");
}

// The log starts over when the store empties: a long run of puts and removes keeps it small.
BOOST_AUTO_TEST_CASE(an_emptied_store_starts_its_log_over) {
    TempDir dir;
    SessionStore store(dir.path);
    store.open("hub-1", "tcp://x");
    const std::string body(1000, 'x');
    for (int i = 0; i < 3000; ++i) {
        put(store, "s-" + std::to_string(i), "h", body);
        store.remove("s-" + std::to_string(i));
    }
    put(store, "s-last", "h", "kept");
    store.close();
    BOOST_TEST(fs::file_size(dir.path / "hub-1.session") < (1u << 20));
    SessionStore again(dir.path);
    again.open("hub-1", "tcp://x");
    BOOST_TEST(again.size() == 1u);
    BOOST_TEST(again.get("s-last") == "hkept");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(session_store_use)

// The daemons' QoS-0 messages (a state a second per device, superseded by the next) are not written
// to their session store; their QoS-1 ones (alerts, announcements) still are, so they outlive a kill.
// The client publishes in a child process: Paho C leaks the publishes still queued when a client
// that never connected is destroyed (eclipse-paho/paho.mqtt.c#1474, fixed after Debian 12's
// 1.3.12), and LeakSanitizer would blame whichever test ran later in this process.
BOOST_AUTO_TEST_CASE(only_messages_at_qos_1_and_above_are_kept) {
    TempDir dir;
    const std::string uri = "tcp://127.0.0.1:1", client_id = "energyhub-store-test";  // nothing listens
    const pid_t child = ::fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0) {
        // No exception may leave the child (it would run the rest of the suite) and no exit
        // handlers may run (the test framework's belong to the parent).
        try {
            SessionStore store(dir.path);
            auto options = daemon_create_options(MQTTVERSION_3_1_1, 100);
            options.set_send_while_disconnected(true, true);  // held as if the broker had gone away
            mqtt::async_client client(uri, client_id, options, &store);
            client.publish("energy/u/d/state", "{}", 2, 0, true);
            client.publish("alerts/u/d", "{}", 2, 1, false);
        } catch (...) {
            ::_exit(1);
        }
        ::_exit(0);
    }
    int status = 0;
    BOOST_REQUIRE(::waitpid(child, &status, 0) == child);
    BOOST_REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    SessionStore kept(dir.path);
    kept.open(client_id, uri);
    BOOST_TEST(kept.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
