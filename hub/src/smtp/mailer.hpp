#pragma once
// Sending one email. The interface lets the notifier be tested without a network; the real one
// speaks SMTP through libcurl (STARTTLS or SMTPS, optional login).
#include <string>
#include <vector>

#include "config/config.hpp"

namespace energyhub {

struct Email {
    std::string from;
    std::string to;
    std::string subject;
    std::string text;
    std::string html;
    std::string message_id;  // "<...@...>": the same id for the same alert, so clients can drop repeats
};

struct SendResult {
    enum class Status { sent, retry, rejected } status = Status::sent;  // rejected: a 5xx answer, final
    std::string error;
};

class Mailer {
public:
    virtual ~Mailer() = default;
    virtual SendResult send(const Email& email) = 0;
};

class SmtpMailer final : public Mailer {
public:
    explicit SmtpMailer(const SmtpConfig& config) : config_(config) {}
    SendResult send(const Email& email) override;

private:
    SmtpConfig config_;
};

// The message as sent: headers and a multipart/alternative body with both parts, each quoted-
// printable, under a random boundary; a subject that is long or not ASCII goes as folded RFC 2047
// encoded words. No stored text can add a part or a header, or break a line limit.
std::string render_mime(const Email& email, const std::string& date_header);

}  // namespace energyhub
