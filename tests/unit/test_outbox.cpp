// The worker's outbox (service/outbox.hpp) against a downstream that can be held: publishing never
// waits on it, messages leave in order (events, such as alerts, first), a full outbox drops its
// oldest and counts them, and close() sends what it can before its deadline and counts the rest.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "service/outbox.hpp"

using namespace energyhub;
using namespace std::chrono_literals;

namespace {

// Records what reaches it; while held, publish() blocks as a busy MQTT client does.
class HeldSink final : public MessageSink {
public:
    void publish(const std::string& topic, std::string_view, int, bool) override {
        std::unique_lock lock(mutex_);
        released_.wait(lock, [&] { return !held_; });
        topics_.push_back(topic);
        changed_.notify_all();
    }
    void hold(bool on) {
        {
            std::lock_guard lock(mutex_);
            held_ = on;
        }
        released_.notify_all();
    }
    std::vector<std::string> wait_for(std::size_t n) {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, 5s, [&] { return topics_.size() >= n; });
        return topics_;
    }

private:
    std::mutex mutex_;
    std::condition_variable released_, changed_;
    bool held_ = false;
    std::vector<std::string> topics_;
};

// Until the outbox's queue holds `n` (its thread has taken the rest and waits on the sink).
bool backlog_reaches(const Outbox& box, std::size_t n) {
    for (int i = 0; i < 500 && box.backlog() != n; ++i) std::this_thread::sleep_for(10ms);
    return box.backlog() == n;
}

// Publishes `topic` and waits until the outbox's thread has taken it and waits on the held sink:
// whatever is published next stays queued.
void occupy(Outbox& box, const std::string& topic) {
    box.publish(topic, "x", 1, false);
    BOOST_REQUIRE(backlog_reaches(box, 0));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(outbox)

BOOST_AUTO_TEST_CASE(messages_leave_in_order_without_the_publisher_waiting) {
    HeldSink sink;
    sink.hold(true);
    Outbox box(sink, 100);
    // While the client is held, publishing still returns (a blocked worker would never wake).
    auto publishing = std::async(std::launch::async, [&] {
        for (int i = 0; i < 10; ++i) box.publish("t/" + std::to_string(i), "x", 1, false);
    });
    BOOST_TEST((publishing.wait_for(5s) == std::future_status::ready));
    sink.hold(false);
    auto got = sink.wait_for(10);
    BOOST_REQUIRE_EQUAL(got.size(), 10u);
    for (int i = 0; i < 10; ++i) BOOST_TEST(got[static_cast<std::size_t>(i)] == "t/" + std::to_string(i));
    BOOST_TEST(box.dropped() == 0u);
    box.close(1s);
}

BOOST_AUTO_TEST_CASE(events_overtake_what_is_queued) {
    HeldSink sink;
    sink.hold(true);
    Outbox box(sink, 100);
    occupy(box, "state/first");
    for (int i = 0; i < 3; ++i) box.publish("state/" + std::to_string(i), "x", 0, true);
    box.publish_event("alerts/a", "x");
    box.publish_event("alerts/b", "x");
    sink.hold(false);
    auto got = sink.wait_for(6);
    const std::vector<std::string> want{"state/first", "alerts/a", "alerts/b", "state/0", "state/1", "state/2"};
    BOOST_TEST(got == want, boost::test_tools::per_element());
    box.close(1s);
}

BOOST_AUTO_TEST_CASE(a_full_outbox_drops_the_oldest_and_counts_them) {
    HeldSink sink;
    sink.hold(true);
    Outbox box(sink, 3);
    occupy(box, "t/first");
    for (int i = 0; i < 5; ++i) box.publish("t/" + std::to_string(i), "x", 1, false);
    BOOST_TEST(box.dropped() == 2u);  // t/0 and t/1 made room for t/3 and t/4
    BOOST_TEST(box.backlog() == 3u);
    sink.hold(false);
    auto got = sink.wait_for(4);
    const std::vector<std::string> want{"t/first", "t/2", "t/3", "t/4"};
    BOOST_TEST(got == want, boost::test_tools::per_element());
    box.close(1s);
}

BOOST_AUTO_TEST_CASE(close_sends_what_it_can_before_its_deadline_and_counts_the_rest) {
    HeldSink sink;
    sink.hold(true);
    std::thread release([&] {
        std::this_thread::sleep_for(300ms);
        sink.hold(false);
    });
    {
        Outbox box(sink, 100);
        for (int i = 0; i < 3; ++i) box.publish("t/" + std::to_string(i), "x", 1, false);
        box.close(5s);  // the sink frees up within the deadline: everything goes out
        BOOST_TEST(box.dropped() == 0u);
    }
    release.join();
    BOOST_TEST(sink.wait_for(3).size() == 3u);

    HeldSink stuck;
    stuck.hold(true);
    Outbox box(stuck, 100);
    for (int i = 0; i < 3; ++i) box.publish("s/" + std::to_string(i), "x", 1, false);
    BOOST_REQUIRE(backlog_reaches(box, 2));  // the thread holds s/0, waiting on the sink
    std::thread later([&] {
        std::this_thread::sleep_for(1s);  // well after close()'s deadline
        stuck.hold(false);                // lets the thread finish s/0 so close() can join it
    });
    box.close(200ms);
    later.join();
    BOOST_TEST(box.dropped() == 2u);       // s/1 and s/2 were still queued at the deadline
    box.publish("s/late", "x", 1, false);  // after close: ignored
    BOOST_TEST(stuck.wait_for(1).size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
