#pragma once
// Device secrets: generated here, shown once, stored only as a salted PBKDF2-SHA512 hash in the
// format of mosquitto_passwd ("$7$<iterations>$<salt>$<hash>", base64), so the broker and existing
// Mosquitto password files speak the same language.
#include <optional>
#include <string>
#include <string_view>

namespace energyhub {

// Padded standard base64 (RFC 4648), as mosquitto_passwd and MIME encoded words write it.
std::string base64(std::string_view bytes);

// 32 random bytes as 43 URL-safe characters.
std::string generate_secret();

std::string hash_password(std::string_view password, int iterations = 101);

// False for a wrong password and for a hash this code does not understand.
bool verify_password(std::string_view password, std::string_view encoded);

}  // namespace energyhub
