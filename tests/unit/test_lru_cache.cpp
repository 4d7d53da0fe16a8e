#include <boost/test/unit_test.hpp>

#include <list>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "pipeline/batcher.hpp"
#include "util/lru_cache.hpp"
#include "util/name_pool.hpp"

using namespace energyhub;

BOOST_AUTO_TEST_SUITE(lru_cache)

BOOST_AUTO_TEST_CASE(evicts_least_recently_used) {
    LruCache<std::string, int> cache(2);
    cache.put("a", 1);
    cache.put("b", 2);
    BOOST_TEST(*cache.find("a") == 1);  // a is now most recent
    cache.put("c", 3);                  // evicts b
    BOOST_TEST(cache.find("b") == nullptr);
    BOOST_TEST(*cache.find("a") == 1);
    BOOST_TEST(*cache.find("c") == 3);
    BOOST_TEST(cache.size() == 2u);
}

BOOST_AUTO_TEST_CASE(put_replaces_and_erase_removes) {
    LruCache<std::string, int> cache(3);
    cache.put("a", 1);
    cache.put("a", 5);
    BOOST_TEST(cache.size() == 1u);
    BOOST_TEST(*cache.find("a") == 5);
    BOOST_TEST(cache.erase("a"));
    BOOST_TEST(!cache.erase("a"));
    BOOST_TEST(cache.find("a") == nullptr);
}

BOOST_AUTO_TEST_CASE(for_each_leaves_recency_as_it_was) {
    LruCache<std::string, int> cache(3);
    for (const char* k : {"a", "b", "c"}) cache.put(k, 0);
    std::string order;
    cache.for_each([&](const std::string& k, int&) { order += k; });
    BOOST_TEST(order == "abc");  // least recent first
    cache.put("d", 0);           // evicts a: the walk did not make it recent
    BOOST_TEST(cache.find("a") == nullptr);
    BOOST_TEST(cache.find("b") != nullptr);
}

BOOST_AUTO_TEST_CASE(recency_survives_erasing_from_anywhere_and_rehashing) {
    LruCache<std::string, int> cache(3);
    for (const char* k : {"a", "b", "c"}) cache.put(k, 0);
    cache.find("a");               // order, newest first: a c b
    BOOST_TEST(cache.erase("c"));  // from the middle: a b
    cache.put("d", 0);             // d a b
    cache.put("e", 0);             // full: b goes; e d a
    BOOST_TEST(cache.find("b") == nullptr);
    BOOST_TEST(cache.erase("e"));  // the newest: d a
    BOOST_TEST(cache.erase("a"));  // the oldest: d
    cache.put("f", 0);
    cache.put("g", 0);  // g f d
    cache.put("h", 0);  // d goes
    BOOST_TEST(cache.find("d") == nullptr);
    BOOST_TEST(cache.size() == 3u);
    cache.clear();
    BOOST_TEST(cache.size() == 0u);
    cache.put("x", 1);
    BOOST_TEST(*cache.find("x") == 1);

    // Thousands of entries through a small table: every eviction takes the oldest.
    LruCache<int, int> big(1000);
    for (int i = 0; i < 5000; ++i) {
        big.put(i, i);
        if (i % 2 == 0) big.find(i / 2);  // keeps some older ones young
    }
    BOOST_TEST(big.size() == 1000u);
    BOOST_TEST(big.find(4999) != nullptr);
    BOOST_TEST(big.find(0) == nullptr);
}

// Few distinct hashes: long probe runs, each erase shifting entries back into the hole.
struct CrowdedHash {
    std::size_t operator()(int k) const { return static_cast<std::size_t>(k % 7); }
};

BOOST_AUTO_TEST_CASE(agrees_with_a_plain_model_under_churn) {
    constexpr std::size_t kCapacity = 40;
    LruCache<int, int, CrowdedHash> cache(kCapacity);
    std::list<int> recency;  // newest first
    std::map<int, int> values;
    auto make_newest = [&](int k) {
        recency.remove(k);
        recency.push_front(k);
    };
    std::mt19937 random(7);
    for (int step = 0; step < 20'000; ++step) {
        const int key = static_cast<int>(random() % 100);
        switch (random() % 3) {
            case 0:
                cache.put(key, step);
                if (!values.count(key) && values.size() == kCapacity) {
                    values.erase(recency.back());
                    recency.pop_back();
                }
                values[key] = step;
                make_newest(key);
                break;
            case 1: {
                const int* found = cache.find(key);
                BOOST_TEST_REQUIRE((found != nullptr) == (values.count(key) == 1), "step " << step << " key " << key);
                if (found) {
                    BOOST_TEST_REQUIRE(*found == values[key]);
                    make_newest(key);
                }
                break;
            }
            default: BOOST_TEST_REQUIRE(cache.erase(key) == (values.erase(key) == 1)); recency.remove(key);
        }
        BOOST_TEST_REQUIRE(cache.size() == values.size());
    }
    std::list<int> walked;
    cache.for_each([&](int k, int&) { walked.push_front(k); });
    BOOST_TEST(walked == recency, boost::test_tools::per_element());
}

// Values stay where they are while the cache grows, and an erased entry lets go of its value.
BOOST_AUTO_TEST_CASE(values_stay_put_and_erasing_releases_them) {
    LruCache<std::string, std::shared_ptr<int>> cache(100'000);
    auto held = std::make_shared<int>(42);
    std::shared_ptr<int>* first = &cache.put("first", held);
    for (int i = 0; i < 10'000; ++i) cache.put("device-" + std::to_string(i), nullptr);
    BOOST_TEST(cache.find("first") == first);
    BOOST_TEST(**first == 42);
    BOOST_TEST(held.use_count() == 2);
    BOOST_TEST(cache.erase("first"));
    BOOST_TEST(held.use_count() == 1);
    BOOST_TEST(cache.find("device-9999") != nullptr);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(batcher)

BOOST_AUTO_TEST_CASE(flushes_on_size) {
    Batcher<int> b(3, 1000);
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST(!b.due(0));
        b.slot() = i;
        b.add(0);
    }
    BOOST_TEST(b.full());
    BOOST_TEST(b.due(0));
    BOOST_TEST(b.items().size() == 3u);
    BOOST_TEST(b.items()[2] == 2);
}

BOOST_AUTO_TEST_CASE(flushes_on_age_of_first_item) {
    Batcher<int> b(100, 200);
    BOOST_TEST(!b.due(1'000'000));  // empty is never due
    BOOST_TEST(b.wait_ms(0, 50) == 50);
    b.add(1000);
    b.add(1150);
    BOOST_TEST(!b.due(1199));
    BOOST_TEST(b.wait_ms(1150, 50) == 50);
    BOOST_TEST(b.due(1200));
    b.clear();
    BOOST_TEST(b.empty());
    b.add(5000);  // a new batch restarts the clock
    BOOST_TEST(!b.due(5100));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(name_pool)

// Entries hold pooled names by pointer: equal names share one copy, which stays put.
BOOST_AUTO_TEST_CASE(keeps_each_name_once) {
    NamePool pool;
    const std::string* berlin = pool.intern("Europe/Berlin");
    for (int i = 0; i < 1000; ++i) pool.intern("user-" + std::to_string(i));  // rehashes the pool
    BOOST_TEST(pool.intern(std::string("Europe/") + "Berlin") == berlin);
    BOOST_TEST(*berlin == "Europe/Berlin");
    BOOST_TEST(pool.intern("Europe/London") != berlin);
    BOOST_TEST(pool.intern("") == NamePool::empty());
}

BOOST_AUTO_TEST_SUITE_END()
