#pragma once
// bcrypt, the only password hash nats-server accepts in its users list (fleet mode on NATS).
#include <string>
#include <string_view>

namespace energyhub {

// "$2b$<cost>$<salt><hash>" with a fresh random salt. The secrets energyhub issues are random
// (generate_secret: 192 bits), so the cost guards against nothing that guessing could reach: it
// is kept low because every device's MQTT connect to NATS pays it.
std::string hash_bcrypt(std::string_view password, int cost = 6);

}  // namespace energyhub
