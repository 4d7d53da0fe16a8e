// Device secrets are stored in mosquitto_passwd's format, so a hash either side wrote verifies on
// the other. Here: hashes written by Mosquitto 2.0's mosquitto_passwd (fixed ones, and one made
// now by the installed tool) verify with energyhub::verify_password. The other direction (an
// energyhub hash in a Mosquitto password_file) is checked in tests/integration/broker_plugin.sh.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "security/password.hpp"

using namespace energyhub;

BOOST_AUTO_TEST_SUITE(passwd_interop)

BOOST_AUTO_TEST_CASE(hashes_from_mosquitto_passwd_verify) {
    // mosquitto_passwd -c -b FILE dev1 's3cret-Pa55' and FILE meter-1 'pa:ss word/1+' (Mosquitto 2.0.11)
    const std::string dev1 =
        "$7$101$y/rmovL4Zbi3bsMs$9SFESlUN4VtPo1iKepvQhqDYki7/lC9pf6rW/QeUH0/+owysB/WIUHU0NoDw8am+RRO0o3p44bQm5NWbxZl7wQ==";
    const std::string meter1 =
        "$7$101$+uS9BhIkMeFsuCVK$Wu1bggglti8lEl3KyJ9kJWW/vcvsr1hQ0Q4fZ0YpLbtmiQsHQnuO1qGxmF2G15pwQA77aK2XkxaLCDvqg8cRKA==";
    BOOST_TEST(verify_password("s3cret-Pa55", dev1));
    BOOST_TEST(!verify_password("s3cret-Pa56", dev1));
    BOOST_TEST(!verify_password("", dev1));
    BOOST_TEST(verify_password("pa:ss word/1+", meter1));
    BOOST_TEST(!verify_password("s3cret-Pa55", meter1));
}

BOOST_AUTO_TEST_CASE(hash_made_now_by_mosquitto_passwd_verifies) {
    namespace fs = std::filesystem;
    auto file = fs::temp_directory_path() / ("energyhub-passwd-" + std::to_string(::getpid()));
    const std::string secret = generate_secret();  // URL-safe characters: no shell quoting issues
    const std::string cmd = "mosquitto_passwd -c -b '" + file.string() + "' interop-device '" + secret + "' >/dev/null 2>&1";
    int rc = std::system(cmd.c_str());
    BOOST_REQUIRE_MESSAGE(rc == 0, "mosquitto_passwd failed (is the mosquitto package installed?): " << cmd);
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    fs::remove(file);
    const std::string prefix = "interop-device:";
    BOOST_REQUIRE(line.rfind(prefix, 0) == 0);
    auto hash = line.substr(prefix.size());
    BOOST_TEST(hash.rfind("$7$", 0) == 0u);
    BOOST_TEST(verify_password(secret, hash));
    BOOST_TEST(!verify_password(secret + "x", hash));
}

BOOST_AUTO_TEST_SUITE_END()
