#pragma once
// The notifier's port for sending one email (smtp/mailer.hpp in the daemon, a recorder in tests).
#include <string>

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

}  // namespace energyhub
