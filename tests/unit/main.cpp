#define BOOST_TEST_MODULE energyhub unit tests
#include <boost/test/unit_test.hpp>

#include "util/logging.hpp"

// Components log through named loggers; create them once for every test.
struct LoggingFixture {
    LoggingFixture() { energyhub::setup_logging("off"); }
};
BOOST_TEST_GLOBAL_FIXTURE(LoggingFixture);
