#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "pipeline/spool.hpp"
#include "temp_dir.hpp"

using namespace energyhub;
using energyhub::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> read_all(Spool& spool, SpoolPosition* last = nullptr) {
    std::vector<std::string> out;
    SpoolRecord r;
    while (spool.next(r, std::chrono::milliseconds(0))) {
        out.push_back(std::string(r.topic) + "|" + std::string(r.payload));
        if (last) *last = r.end;
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(spool)

BOOST_AUTO_TEST_CASE(records_come_back_in_order_across_segments) {
    TempDir dir;
    Spool spool(dir.path, 64 * 1024, 1 << 20);
    for (int i = 0; i < 2000; ++i) spool.append(i, "energy/d/reading", "payload-" + std::to_string(i));
    auto got = read_all(spool);
    BOOST_REQUIRE(got.size() == 2000u);
    BOOST_TEST(got[0] == "energy/d/reading|payload-0");
    BOOST_TEST(got[1999] == "energy/d/reading|payload-1999");
    BOOST_TEST(spool.drained());
}

BOOST_AUTO_TEST_CASE(peeking_shows_the_waiting_topics_without_taking_them) {
    TempDir dir;
    Spool spool(dir.path, 1 << 20, 1 << 20);
    for (int i = 0; i < 5; ++i) spool.append(i, "tele/plug-" + std::to_string(i) + "/SENSOR", "{}");
    std::vector<std::string_view> topics;
    spool.peek_topics(10, topics);
    BOOST_TEST(topics.empty());  // nothing read yet: nothing at hand
    SpoolRecord r;
    BOOST_REQUIRE(spool.next(r, std::chrono::milliseconds(0)));
    spool.peek_topics(2, topics);
    BOOST_REQUIRE(topics.size() == 2u);
    BOOST_TEST(topics[0] == "tele/plug-1/SENSOR");
    BOOST_TEST(topics[1] == "tele/plug-2/SENSOR");
    topics.clear();
    spool.peek_topics(10, topics);
    BOOST_TEST(topics.size() == 4u);
    BOOST_REQUIRE(spool.next(r, std::chrono::milliseconds(0)));
    BOOST_TEST(r.topic == "tele/plug-1/SENSOR");  // peeking took nothing
}

BOOST_AUTO_TEST_CASE(uncommitted_records_are_replayed_after_restart) {
    TempDir dir;
    {
        Spool spool(dir.path, 64 * 1024, 1 << 20);
        for (int i = 0; i < 1000; ++i) spool.append(i, "t", std::to_string(i));
        SpoolRecord r;
        SpoolPosition after_600;
        for (int i = 0; i < 600; ++i) {
            BOOST_REQUIRE(spool.next(r, std::chrono::milliseconds(0)));
            after_600 = r.end;
        }
        spool.commit(after_600);
    }  // "crash": 600 committed, 400 not
    Spool again(dir.path, 64 * 1024, 1 << 20);
    auto got = read_all(again);
    BOOST_REQUIRE(got.size() == 400u);
    BOOST_TEST(got.front() == "t|600");
    BOOST_TEST(got.back() == "t|999");
}

BOOST_AUTO_TEST_CASE(the_retained_flag_survives_a_restart_and_replayed_records_say_so) {
    TempDir dir;
    {
        Spool spool(dir.path, 64 * 1024, 1 << 20);
        spool.append(1, "energy/d/reading", "live");
        spool.append(2, "energy/d/reading", "retained", kSpoolRetained);
        SpoolRecord r;
        BOOST_TEST_REQUIRE(spool.next(r, std::chrono::milliseconds(0)));
        BOOST_TEST(r.flags == 0);  // appended by this run
    }
    Spool again(dir.path, 64 * 1024, 1 << 20);
    again.append(3, "energy/d/reading", "new");
    SpoolRecord r;
    BOOST_TEST_REQUIRE(again.next(r, std::chrono::milliseconds(0)));
    BOOST_TEST(r.payload == "live");
    BOOST_TEST(r.flags == kSpoolReplayed);
    BOOST_TEST_REQUIRE(again.next(r, std::chrono::milliseconds(0)));  // the flag is covered by the checksum
    BOOST_TEST(r.payload == "retained");
    BOOST_TEST(r.flags == (kSpoolRetained | kSpoolReplayed));
    BOOST_TEST_REQUIRE(again.next(r, std::chrono::milliseconds(0)));
    BOOST_TEST(r.payload == "new");
    BOOST_TEST(r.flags == 0);
}

BOOST_AUTO_TEST_CASE(committed_segments_are_deleted) {
    TempDir dir;
    Spool spool(dir.path, 64 * 1024, 16 << 20);
    std::string payload(1000, 'x');
    for (int i = 0; i < 500; ++i) spool.append(i, "t", payload);
    auto count_segments = [&] {
        int n = 0;
        for (const auto& e : fs::directory_iterator(dir.path)) n += e.path().extension() == ".spool";
        return n;
    };
    BOOST_TEST(count_segments() > 5);
    SpoolPosition last;
    read_all(spool, &last);
    spool.commit(last);
    BOOST_TEST(count_segments() == 1);
    BOOST_TEST(spool.stats().pending_bytes == 0u);
}

BOOST_AUTO_TEST_CASE(torn_tail_is_cut_on_recovery) {
    TempDir dir;
    {
        Spool spool(dir.path, 1 << 20, 1 << 20);
        spool.append(1, "t", "complete-1");
        spool.append(2, "t", "complete-2");
    }
    fs::path segment;
    for (const auto& e : fs::directory_iterator(dir.path))
        if (e.path().extension() == ".spool") segment = e.path();
    {
        std::ofstream out(segment, std::ios::app | std::ios::binary);
        out.write("\x30\x00\x00\x00garbage", 11);  // a header promising more than is there
    }
    Spool again(dir.path, 1 << 20, 1 << 20);
    auto got = read_all(again);
    BOOST_REQUIRE(got.size() == 2u);
    BOOST_TEST(got[1] == "t|complete-2");
    again.append(3, "t", "after-recovery");
    BOOST_TEST(read_all(again) == std::vector<std::string>{"t|after-recovery"});
}

// What a kill leaves: the segment with the space reserved past its last record (zeros). A copy
// taken while the spool is open is that state.
BOOST_AUTO_TEST_CASE(reserved_space_after_a_kill_is_not_read_as_records) {
    TempDir dir, copy;
    {
        Spool spool(dir.path, 1 << 20, 1 << 20);
        spool.append(1, "t", "one");
        spool.append(2, "t", "two");
        fs::copy(dir.path, copy.path, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    }
    std::uint64_t size = 0;
    for (const auto& e : fs::directory_iterator(copy.path))
        if (e.path().extension() == ".spool") size = fs::file_size(e.path());
    BOOST_TEST(size > 100u);  // the reserved space is there
    Spool again(copy.path, 1 << 20, 1 << 20);
    BOOST_TEST(read_all(again) == (std::vector<std::string>{"t|one", "t|two"}));
    again.append(3, "t", "three");
    BOOST_TEST(read_all(again) == std::vector<std::string>{"t|three"});
}

BOOST_AUTO_TEST_CASE(a_waiting_consumer_is_woken_by_a_record) {
    TempDir dir;
    Spool spool(dir.path, 1 << 20, 1 << 20);
    for (int round = 0; round < 3; ++round) {  // idle, then streaming, then idle again
        std::string got;
        std::thread consumer([&] {
            SpoolRecord r;
            if (spool.next(r, std::chrono::seconds(30))) got = std::string(r.payload);
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        auto sent = std::chrono::steady_clock::now();
        spool.append(round, "t", "r" + std::to_string(round));
        consumer.join();
        BOOST_TEST(got == "r" + std::to_string(round));
        BOOST_TEST((std::chrono::steady_clock::now() - sent < std::chrono::seconds(10)));
    }
}

BOOST_AUTO_TEST_CASE(full_spool_makes_the_producer_wait) {
    TempDir dir;
    Spool spool(dir.path, 64 * 1024, 64 * 1024);
    std::string payload(1000, 'x');
    int i = 0;
    while (spool.stats().pending_bytes + 1100 < 64 * 1024) spool.append(i++, "t", payload);
    std::atomic<bool> appended{false};
    std::thread producer([&] {
        spool.append(99, "t", payload);
        appended = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    BOOST_TEST(!appended.load());  // waiting for room
    SpoolPosition last;
    read_all(spool, &last);
    spool.commit(last);
    producer.join();
    BOOST_TEST(appended.load());
    BOOST_TEST(spool.stats().append_waits >= 1u);
}

BOOST_AUTO_TEST_SUITE_END()
