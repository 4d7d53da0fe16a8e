// Secrets in URIs and connection strings never reach a log line (util/redact.hpp).
#include <boost/test/unit_test.hpp>

#include "util/listen_address.hpp"
#include "util/redact.hpp"

using namespace energyhub;

BOOST_AUTO_TEST_SUITE(redact_secrets)

BOOST_AUTO_TEST_CASE(passwords_are_masked_wherever_they_stand) {
    BOOST_TEST(redact("smtp://mailer:s3cret@mail.example.com:587") == "smtp://mailer:***@mail.example.com:587");
    BOOST_TEST(redact("http://u:p%40ss@127.0.0.1:11434/api/chat") == "http://u:***@127.0.0.1:11434/api/chat");
    BOOST_TEST(redact("postgresql://energyhub:pw@db/energyhub?sslmode=require") == "postgresql://energyhub:***@db/energyhub?sslmode=require");
    BOOST_TEST(redact("host=db user=hub password=s3cret dbname=energyhub") == "host=db user=hub password=*** dbname=energyhub");
    BOOST_TEST(redact("host=db password='a b c' dbname=x") == "host=db password=*** dbname=x");
    BOOST_TEST(redact("postgresql:///energyhub?user=hub&password=s3cret&sslmode=verify-full") ==
               "postgresql:///energyhub?user=hub&password=***&sslmode=verify-full");
    BOOST_TEST(redact("redis://:s3cret@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0");
    // Nothing secret: unchanged. A user name alone says who, not how.
    BOOST_TEST(redact("tcp://127.0.0.1:1883") == "tcp://127.0.0.1:1883");
    BOOST_TEST(redact("smtp://mailer@mail.example.com") == "smtp://mailer@mail.example.com");
    BOOST_TEST(redact("http://host/path?q=a@b") == "http://host/path?q=a@b");
    BOOST_TEST(redact("no_password=here") == "no_password=here");
}

BOOST_AUTO_TEST_CASE(userinfo_is_found_before_the_host_only) {
    BOOST_TEST(has_userinfo("tcp://hub:pw@127.0.0.1:1883"));
    BOOST_TEST(has_userinfo("tcp://hub@127.0.0.1:1883"));
    BOOST_TEST(!has_userinfo("tcp://127.0.0.1:1883"));
    BOOST_TEST(!has_userinfo("http://host/a@b"));
}

BOOST_AUTO_TEST_CASE(url_host_names_the_server_and_never_the_login) {
    BOOST_TEST(url_host("mqtts://hub:s3cret@broker.lan:8883") == "broker.lan:8883");
    BOOST_TEST(url_host("smtp://mail.example:587/") == "mail.example:587");
    BOOST_TEST(url_host("postgresql://u:p/w?x@db:5432/energyhub?sslmode=require") == "db:5432");
    BOOST_TEST(url_host("redis://127.0.0.1:6379") == "127.0.0.1:6379");
    BOOST_TEST(url_host("broker.lan:1883") == "broker.lan:1883");
}

BOOST_AUTO_TEST_CASE(only_loopback_names_address_a_tokenless_listener) {
    for (const char* ok : {"127.0.0.1", "127.0.0.1:8080", "localhost:8080", "localhost", "[::1]:8080", "[::1]", "127.1.2.3:80"})
        BOOST_TEST(is_loopback_host(ok), ok);
    for (const char* bad : {"", "evil.example", "evil.example:8080", "127.0.0.1.evil.example", "localhost.evil.example",
                            "[::1].evil:80", "10.0.0.1:8080", "127.0.0.1x", "[::2]:80", "127.0.0:80"})
        BOOST_TEST(!is_loopback_host(bad), bad);
}

BOOST_AUTO_TEST_SUITE_END()
