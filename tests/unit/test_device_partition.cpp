// Hubs that split a fleet by device: every device, and all of its channels, belongs to exactly
// one partition, and which one never changes.
#include <boost/test/unit_test.hpp>

#include <string>

#include "domain/device_partition.hpp"

using namespace energyhub;

BOOST_AUTO_TEST_SUITE(device_partition)

BOOST_AUTO_TEST_CASE(parses_index_and_count) {
    auto p = DevicePartition::parse("1/3");
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST(p->index() == 1u);
    BOOST_TEST(p->count() == 3u);
    BOOST_TEST(DevicePartition::parse("0/1")->whole());
    for (const char* bad : {"", "1", "/2", "1/", "2/2", "0/0", "-1/2", "1/2/3", "a/2", "0/1025", " 0/2", "0/2 "})
        BOOST_TEST(!DevicePartition::parse(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(each_device_belongs_to_exactly_one_partition) {
    const unsigned n = 3;
    unsigned per_partition[n] = {};
    for (int i = 0; i < 3000; ++i) {
        const std::string id = "plug-" + std::to_string(i);
        unsigned owners = 0;
        for (unsigned k = 0; k < n; ++k) {
            if (DevicePartition(k, n).owns(id)) {
                ++owners;
                ++per_partition[k];
                BOOST_TEST(DevicePartition(k, n).owns(id + ":1"));  // its channels go with it
            }
        }
        BOOST_TEST(owners == 1u);
    }
    for (unsigned k = 0; k < n; ++k) BOOST_TEST((per_partition[k] > 900 && per_partition[k] < 1100), per_partition[k]);
    BOOST_TEST(DevicePartition().owns("anything"));
}

BOOST_AUTO_TEST_CASE(the_hash_never_changes) {
    // FNV-1a 64 of "plug-1": hubs of different versions must agree on every device's partition.
    BOOST_TEST(DevicePartition::hash("plug-1") == 0xeefc6f4fae8a39d7ull);
    BOOST_TEST(DevicePartition::hash("plug-1:3") == DevicePartition::hash("plug-1"));
}

BOOST_AUTO_TEST_SUITE_END()
