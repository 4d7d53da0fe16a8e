#include <boost/test/unit_test.hpp>

#include "security/password.hpp"

using namespace energyhub;

BOOST_AUTO_TEST_SUITE(password)

BOOST_AUTO_TEST_CASE(hash_verifies_and_is_salted) {
    auto secret = generate_secret();
    BOOST_TEST(secret.size() == 43u);
    auto h1 = hash_password(secret);
    auto h2 = hash_password(secret);
    BOOST_TEST(h1 != h2);
    BOOST_TEST(h1.rfind("$7$101$", 0) == 0u);
    BOOST_TEST(verify_password(secret, h1));
    BOOST_TEST(verify_password(secret, h2));
    BOOST_TEST(!verify_password(secret + "x", h1));
}

BOOST_AUTO_TEST_CASE(garbage_hashes_never_verify) {
    for (const char* bad : {"", "$7$", "$7$101$", "$7$abc$AAAA$AAAA", "$6$101$AAAA$AAAA", "$7$101$!!!!$????", "$7$0$AAAA$AAAA"})
        BOOST_TEST(!verify_password("pw", bad), bad);
}

BOOST_AUTO_TEST_SUITE_END()
