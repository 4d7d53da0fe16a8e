#pragma once
// One server's answer to `check-config --connect`, as the adapter that talks to it reports it: the
// probe goes through the same connection code the daemons use (TLS, login), so what it checks is
// what they will do.
#include <string>

namespace energyhub {

struct Probe {
    bool ok = false;
    std::string target;   // where, never with a user name or password
    std::string problem;  // when not ok: what, and what to do about it
};

}  // namespace energyhub
