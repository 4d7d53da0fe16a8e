#pragma once
// Password checks for the broker thread. PBKDF2 is slow on purpose, so a reconnect storm must not
// run it again for every attempt: a successful check is remembered per (username, stored hash)
// together with a keyed MAC of the password that passed (a random key per process, never the
// password itself), and a wrong password that keeps coming back (a device with an old secret
// retrying every second) is remembered the same way. A new hash in the registry invalidates both.
// Not thread-safe: only the broker thread uses it.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/string_hash.hpp"

namespace energyhub::broker {

class AuthCache {
public:
    using Verifier = std::function<bool(std::string_view password, std::string_view hash)>;

    // `verifier` defaults to energyhub::verify_password (PBKDF2-SHA512, mosquitto_passwd format).
    explicit AuthCache(Verifier verifier = {}, std::size_t max_entries = 1u << 20);

    bool check(std::string_view username, std::string_view password, std::string_view hash);

    std::uint64_t slow_checks() const { return slow_checks_; }
    std::uint64_t cached_checks() const { return cached_checks_; }

private:
    using Mac = std::array<unsigned char, 32>;
    struct Entry {
        std::string hash;
        Mac good{};
        bool has_good = false;
        std::vector<Mac> bad;  // a few recent wrong passwords
    };

    Mac mac(std::string_view username, std::string_view password) const;

    Verifier verifier_;
    std::size_t max_entries_;
    std::array<unsigned char, 32> key_{};
    std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> entries_;
    std::uint64_t slow_checks_ = 0;
    std::uint64_t cached_checks_ = 0;
};

}  // namespace energyhub::broker
