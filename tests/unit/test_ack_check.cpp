// The start-up check the hub's QoS-1 default rests on: does the linked Paho acknowledge an incoming
// QoS-1 message only after the message callback returned? Offline: the probe server is in-process.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include <mqtt/async_client.h>

#include "mqtt/ack_check.hpp"

using namespace energyhub;
using namespace std::chrono_literals;

namespace {

MqttConfig hub_like_config() {
    MqttConfig config;
    config.client_id = "energyhub-hub-test";
    config.qos = 1;
    return config;
}

std::string scratch_dir(const char* name) {
    return (std::filesystem::temp_directory_path() / (std::string(name) + "-" + std::to_string(::getpid()))).string();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(paho_ack_check)

BOOST_AUTO_TEST_CASE(the_linked_paho_acknowledges_after_the_callback_returned) {
    const auto dir = scratch_dir("ack-check");
    const auto result = check_ack_after_callback(hub_like_config(), dir, 300ms);
    BOOST_TEST(result.ack_seen, result.detail);
    BOOST_TEST(result.after_callback(), result.detail);
    BOOST_TEST(!std::filesystem::exists(dir));  // the probe's session store is removed
}

// Paho C++'s consumer queue takes the message off the callback at once, so the PUBACK leaves before
// the application has it anywhere safe: the check must say so.
BOOST_AUTO_TEST_CASE(a_client_that_acknowledges_on_receipt_is_caught) {
    std::atomic<bool> processed{false};
    AckProbeServer server([&] { return processed.load(); });
    mqtt::async_client client(server.uri(), "consumer-ack-check");
    client.start_consuming();
    client.connect(mqtt::connect_options_builder().clean_session(true).finalize())->wait();
    client.subscribe(AckProbeServer::kTopic, 1)->wait();
    std::thread application([&] {
        mqtt::const_message_ptr message;
        if (client.try_consume_message_for(&message, 5s)) {
            std::this_thread::sleep_for(300ms);  // storing it
            processed = true;
        }
    });
    const auto result = server.wait(6s);
    application.join();
    try {
        client.disconnect()->wait();
    } catch (const mqtt::exception&) {  // the probe server hangs up once it has its answer
    }
    BOOST_TEST(result.ack_seen, result.detail);
    BOOST_TEST(!result.after_callback());
    BOOST_TEST(result.detail == "PUBACK while the callback was still running");
}

BOOST_AUTO_TEST_CASE(no_client_is_no_answer_not_a_pass) {
    AckProbeServer server([] { return true; });
    const auto result = server.wait(200ms);
    BOOST_TEST(!result.after_callback());
    BOOST_TEST(result.detail == "no PUBACK within 200 ms");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(subscription_qos)

BOOST_AUTO_TEST_CASE(qos_1_only_when_the_check_sees_the_ack_after_the_callback) {
    int checks = 0;
    auto seen = [&](bool returned) {
        return [&checks, returned] {
            ++checks;
            AckCheckResult r;
            r.ack_seen = true;
            r.callback_returned = returned;
            r.detail = returned ? "after" : "PUBACK while the callback was still running";
            return r;
        };
    };
    BOOST_TEST(safe_subscription_qos(1, seen(true)) == 1);
    BOOST_TEST(safe_subscription_qos(1, seen(false)) == 2);
    BOOST_TEST(safe_subscription_qos(1, [] { return AckCheckResult{}; }) == 2);  // no answer is no pass
    BOOST_TEST(checks == 2);
    BOOST_TEST(safe_subscription_qos(2, seen(false)) == 2);
    BOOST_TEST(safe_subscription_qos(0, seen(false)) == 0);
    BOOST_TEST(checks == 2);  // nothing to check unless QoS 1 was asked for
}

BOOST_AUTO_TEST_SUITE_END()
