// quiet_paho_trace: Paho C's in-memory trace of every call and packet is off (errors only) unless
// its debugging variable asks for it.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdlib>

#include <MQTTAsync.h>

#include "mqtt/paho_settings.hpp"

using namespace energyhub;

namespace {

std::atomic<int> traced_below_error{0};

void count_trace(enum MQTTASYNC_TRACE_LEVELS level, char*) {
    if (level < MQTTASYNC_TRACE_ERROR) ++traced_below_error;
}

// Entries below error level that calls on a client (no connection) put into the trace. Not those
// of its creation: Paho writes its banner (version, OpenSSL) at every start whatever the level.
int traced_by_a_client() {
    MQTTAsync client = nullptr;
    BOOST_REQUIRE(MQTTAsync_create(&client, "tcp://127.0.0.1:1", "energyhub-trace-test", MQTTCLIENT_PERSISTENCE_NONE,
                                   nullptr) == MQTTASYNC_SUCCESS);
    traced_below_error = 0;
    MQTTAsync_setTraceCallback(count_trace);
    BOOST_TEST(!MQTTAsync_isConnected(client));
    MQTTAsync_destroy(&client);
    MQTTAsync_setTraceCallback(nullptr);
    return traced_below_error;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(paho_trace)

BOOST_AUTO_TEST_CASE(only_errors_are_traced) {
    ::unsetenv("MQTT_C_CLIENT_TRACE");
    MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_MINIMUM);  // Paho's default
    BOOST_TEST_REQUIRE(traced_by_a_client() > 0);      // the trace that is turned off
    quiet_paho_trace();
    BOOST_TEST(traced_by_a_client() == 0);
}

BOOST_AUTO_TEST_CASE(the_debugging_variable_keeps_the_trace) {
    ::setenv("MQTT_C_CLIENT_TRACE", "/dev/null", 1);  // a file, in case Paho starts its trace here
    MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_MINIMUM);
    quiet_paho_trace();
    const int traced = traced_by_a_client();
    ::unsetenv("MQTT_C_CLIENT_TRACE");
    quiet_paho_trace();
    BOOST_TEST(traced > 0);
}

BOOST_AUTO_TEST_SUITE_END()
