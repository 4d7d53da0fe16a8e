// The notifier's order of work (notify/notifier.hpp) against a recording queue and mailer: an
// alert is claimed, then emailed, then marked; a failed email is never marked sent; one user's
// many alerts go out as one digest; quiet hours and the hourly limit hold them back.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "notify/notifier.hpp"

using namespace energyhub;

namespace {

struct EventLog {
    std::vector<std::string> events;
};

class RecordingQueue final : public NotificationQueue {
public:
    explicit RecordingQueue(EventLog& r) : r_(r) {}
    std::vector<UserQueue> users;
    bool claimable = true;

    std::vector<UserQueue> due() override { return users; }
    bool claim(const std::vector<PendingAlert>& alerts) override {
        r_.events.push_back("claim " + std::to_string(alerts.size()));
        return claimable;
    }
    void sent(const std::string& message_id) override { r_.events.push_back("sent " + message_id); }
    bool failed(const std::string&, bool retry) override {
        r_.events.push_back(retry ? "failed retry" : "failed final");
        return !retry;
    }

private:
    EventLog& r_;
};

class RecordingMailer final : public Mailer {
public:
    explicit RecordingMailer(EventLog& r) : r_(r) {}
    SendResult::Status answer = SendResult::Status::sent;
    std::vector<Email> emails;

    SendResult send(const Email& email) override {
        r_.events.push_back("send " + email.message_id);
        emails.push_back(email);
        return {answer, answer == SendResult::Status::sent ? "" : "server said no"};
    }

private:
    EventLog& r_;
};

PendingAlert pending(const std::string& id) {
    PendingAlert p;
    p.alert.id = id;
    p.alert.user_id = "u1";
    p.alert.device_id = "plug-" + id;
    p.alert.message = "power above 2000 W";
    p.email = "u1@example.org";
    p.user_name = "U One";
    p.time_zone = "UTC";
    p.device_name = "Kettle";
    return p;
}

struct NotifierFixture {
    EventLog recorder;
    RecordingQueue queue{recorder};
    RecordingMailer mailer{recorder};
    NotifierMetrics metrics;
    Config config;
    Notifier notifier{config, queue, mailer, metrics};

    void one_user(std::vector<PendingAlert> alerts, bool quiet = false, int emails_last_hour = 0) {
        queue.users = {UserQueue{std::move(alerts), quiet, emails_last_hour}};
    }
    std::string id_of(std::size_t email) const { return mailer.emails.at(email).message_id; }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(notifier, NotifierFixture)

BOOST_AUTO_TEST_CASE(claims_then_sends_then_marks) {
    one_user({pending("a1")});
    notifier.run_once();
    BOOST_REQUIRE_EQUAL(mailer.emails.size(), 1u);
    const std::vector<std::string> want{"claim 1", "send " + id_of(0), "sent " + id_of(0)};
    BOOST_TEST(recorder.events == want, boost::test_tools::per_element());
    BOOST_TEST(metrics.emails_sent == 1u);
    BOOST_TEST(metrics.alerts_notified == 1u);
}

BOOST_AUTO_TEST_CASE(an_email_that_did_not_go_out_is_never_marked_sent) {
    one_user({pending("a1")});
    mailer.answer = SendResult::Status::retry;
    notifier.run_once();
    std::vector<std::string> want{"claim 1", "send " + id_of(0), "failed retry"};
    BOOST_TEST(recorder.events == want, boost::test_tools::per_element());
    BOOST_TEST(!metrics.smtp_up);

    recorder.events.clear();
    mailer.answer = SendResult::Status::rejected;  // a 5xx: final, and the server is up
    notifier.run_once();
    want = {"claim 1", "send " + id_of(1), "failed final"};
    BOOST_TEST(recorder.events == want, boost::test_tools::per_element());
    BOOST_TEST(metrics.smtp_up);
    BOOST_TEST(metrics.alerts_given_up == 1u);
    BOOST_TEST(metrics.emails_sent == 0u);
}

BOOST_AUTO_TEST_CASE(alerts_another_notifier_claimed_are_not_sent) {
    one_user({pending("a1")});
    queue.claimable = false;
    notifier.run_once();
    BOOST_TEST(mailer.emails.empty());
    BOOST_TEST(recorder.events == std::vector<std::string>{"claim 1"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(many_alerts_for_one_user_go_out_as_one_digest) {
    config.notifier.digest_after = 3;
    one_user({pending("a1"), pending("a2"), pending("a3")});
    notifier.run_once();
    BOOST_REQUIRE_EQUAL(mailer.emails.size(), 1u);
    const std::vector<std::string> want{"claim 3", "send " + id_of(0), "sent " + id_of(0)};
    BOOST_TEST(recorder.events == want, boost::test_tools::per_element());
    BOOST_TEST(metrics.alerts_notified == 3u);
}

BOOST_AUTO_TEST_CASE(quiet_hours_and_the_hourly_limit_hold_alerts_back) {
    one_user({pending("a1")}, /*quiet=*/true);
    notifier.run_once();
    BOOST_TEST(recorder.events.empty());

    config.notifier.emails_per_hour = 2;
    one_user({pending("a1")}, false, /*emails_last_hour=*/2);
    notifier.run_once();
    BOOST_TEST(recorder.events.empty());

    // Room for one more email this hour: two alerts go out together rather than one of them.
    one_user({pending("a1"), pending("a2")}, false, 1);
    notifier.run_once();
    BOOST_REQUIRE_EQUAL(mailer.emails.size(), 1u);
    BOOST_TEST(recorder.events.front() == "claim 2");
}

BOOST_AUTO_TEST_SUITE_END()
