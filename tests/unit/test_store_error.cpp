// postgres::Session turns libpqxx's exceptions into StoreError kinds callers act on.
#include <boost/test/unit_test.hpp>

#include <ostream>

#include "postgres/session.hpp"

namespace energyhub {
std::ostream& operator<<(std::ostream& os, StoreFailure f) { return os << to_string(f); }
}  // namespace energyhub

using energyhub::StoreError;
using energyhub::StoreFailure;
using energyhub::postgres::to_store_error;

namespace {

StoreFailure kind_of_sqlstate(const char* sqlstate) {
    return to_store_error(pqxx::sql_error("ERROR: test", "SELECT 1", sqlstate)).failure();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_error)

BOOST_AUTO_TEST_CASE(connection_trouble_is_unavailable) {
    BOOST_TEST(to_store_error(pqxx::broken_connection("gone")).failure() == StoreFailure::unavailable);
    BOOST_TEST(to_store_error(pqxx::in_doubt_error("commit unknown")).failure() == StoreFailure::unavailable);
    BOOST_TEST(to_store_error(pqxx::deadlock_detected("deadlock")).failure() == StoreFailure::unavailable);
    BOOST_TEST(kind_of_sqlstate("57P01") == StoreFailure::unavailable);  // admin shutdown
    BOOST_TEST(kind_of_sqlstate("08006") == StoreFailure::unavailable);  // connection failure
    BOOST_TEST(kind_of_sqlstate("53100") == StoreFailure::unavailable);  // disk full
    BOOST_TEST(kind_of_sqlstate("") == StoreFailure::unavailable);       // no code: assume transient
}

BOOST_AUTO_TEST_CASE(data_the_server_rejects_is_bad_data) {
    BOOST_TEST(kind_of_sqlstate("23505") == StoreFailure::bad_data);  // unique violation
    BOOST_TEST(kind_of_sqlstate("22003") == StoreFailure::bad_data);  // numeric out of range
    BOOST_TEST(to_store_error(pqxx::conversion_error("not a number")).failure() == StoreFailure::bad_data);
}

BOOST_AUTO_TEST_CASE(a_server_that_says_no_refuses) {
    BOOST_TEST(kind_of_sqlstate("42501") == StoreFailure::refused);  // insufficient privilege
    BOOST_TEST(kind_of_sqlstate("42P01") == StoreFailure::refused);  // undefined table
    BOOST_TEST(kind_of_sqlstate("P0001") == StoreFailure::refused);  // raised by a trigger
    BOOST_TEST(to_store_error(pqxx::usage_error("misuse")).failure() == StoreFailure::refused);
}

BOOST_AUTO_TEST_CASE(run_turns_a_refused_connection_into_unavailable_and_keeps_the_message) {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    energyhub::postgres::Session session("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2");
    try {
        session.run([](pqxx::connection&) { return 0; });
        BOOST_FAIL("no StoreError");
    } catch (const StoreError& e) {
        BOOST_TEST(e.failure() == StoreFailure::unavailable);
        BOOST_TEST(std::string(e.what()).find("127.0.0.1") != std::string::npos);
        BOOST_TEST(!session.connected());
    }
}

BOOST_AUTO_TEST_SUITE_END()
