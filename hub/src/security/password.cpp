#include "security/password.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

namespace energyhub {

namespace {

constexpr std::size_t kSaltBytes = 12;  // as mosquitto_passwd
constexpr std::size_t kHashBytes = 64;  // SHA-512 output

std::string base64_of(const unsigned char* data, std::size_t len) {
    return base64(std::string_view(reinterpret_cast<const char*>(data), len));
}

std::optional<std::vector<unsigned char>> unbase64(std::string_view text) {
    if (text.empty() || text.size() % 4 != 0) return std::nullopt;
    std::vector<unsigned char> out(3 * text.size() / 4);
    int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (n < 0) return std::nullopt;
    std::size_t padding = (text.back() == '=') + (text.size() > 1 && text[text.size() - 2] == '=');
    out.resize(static_cast<std::size_t>(n) - padding);
    return out;
}

std::vector<unsigned char> pbkdf2(std::string_view password, const std::vector<unsigned char>& salt, int iterations) {
    std::vector<unsigned char> out(kHashBytes);
    if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(), static_cast<int>(salt.size()),
                          iterations, EVP_sha512(), static_cast<int>(out.size()), out.data()) != 1)
        throw std::runtime_error("PBKDF2 failed");
    return out;
}

}  // namespace

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string generate_secret() {
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("no randomness available");
    std::string s = base64_of(raw, sizeof raw);
    for (char& c : s) {
        if (c == '+') c = '-';
        else if (c == '/') c = '_';
    }
    while (!s.empty() && s.back() == '=') s.pop_back();
    return s;
}

std::string hash_password(std::string_view password, int iterations) {
    std::vector<unsigned char> salt(kSaltBytes);
    if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) throw std::runtime_error("no randomness available");
    auto hash = pbkdf2(password, salt, iterations);
    return "$7$" + std::to_string(iterations) + "$" + base64_of(salt.data(), salt.size()) + "$" + base64_of(hash.data(), hash.size());
}

bool verify_password(std::string_view password, std::string_view encoded) {
    if (encoded.substr(0, 3) != "$7$") return false;
    encoded.remove_prefix(3);
    auto d1 = encoded.find('$');
    if (d1 == std::string_view::npos) return false;
    auto d2 = encoded.find('$', d1 + 1);
    if (d2 == std::string_view::npos) return false;
    int iterations = 0;
    for (char c : encoded.substr(0, d1)) {
        if (c < '0' || c > '9' || iterations > 10'000'000) return false;
        iterations = iterations * 10 + (c - '0');
    }
    if (iterations <= 0) return false;
    auto salt = unbase64(encoded.substr(d1 + 1, d2 - d1 - 1));
    auto expected = unbase64(encoded.substr(d2 + 1));
    if (!salt || !expected || expected->size() != kHashBytes) return false;
    auto actual = pbkdf2(password, *salt, iterations);
    return CRYPTO_memcmp(actual.data(), expected->data(), kHashBytes) == 0;
}

}  // namespace energyhub
