#pragma once
// Sending one email over SMTP through libcurl (STARTTLS or SMTPS, optional login): the notifier's
// mail port (notify/mail_port.hpp).
#include <string>
#include <vector>

#include <curl/curl.h>

#include "config/config.hpp"
#include "notify/mail_port.hpp"
#include "util/probe.hpp"

namespace energyhub {

class SmtpMailer final : public Mailer {
public:
    explicit SmtpMailer(const SmtpConfig& config) : config_(config) {}
    SendResult send(const Email& email) override;

    // Connects and logs in as send() does, sending nothing (check-config --connect).
    Probe probe() const;

private:
    void connect_settings(CURL* c, char* error) const;

    SmtpConfig config_;
};

// The message as sent: headers and a multipart/alternative body with both parts, each quoted-
// printable, under a random boundary; a subject that is long or not ASCII goes as folded RFC 2047
// encoded words. No stored text can add a part or a header, or break a line limit.
std::string render_mime(const Email& email, const std::string& date_header);

}  // namespace energyhub
