#include "broker/auth_cache.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

#include "security/password.hpp"

namespace energyhub::broker {

namespace {
constexpr std::size_t kBadPerEntry = 4;
}

AuthCache::AuthCache(Verifier verifier, std::size_t max_entries)
    : verifier_(std::move(verifier)), max_entries_(max_entries) {
    if (!verifier_) verifier_ = [](std::string_view password, std::string_view hash) { return verify_password(password, hash); };
    if (RAND_bytes(key_.data(), static_cast<int>(key_.size())) != 1) throw std::runtime_error("no randomness available");
}

AuthCache::Mac AuthCache::mac(std::string_view username, std::string_view password) const {
    // The username is part of the message, so one password shared by two accounts gives two MACs.
    std::string message;
    message.reserve(username.size() + 1 + password.size());
    message.append(username).push_back('\0');
    message.append(password);
    Mac out{};
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), reinterpret_cast<const unsigned char*>(message.data()),
              message.size(), out.data(), &len) ||
        len != out.size())
        throw std::runtime_error("HMAC failed");
    OPENSSL_cleanse(message.data(), message.size());
    return out;
}

bool AuthCache::check(std::string_view username, std::string_view password, std::string_view hash) {
    auto m = mac(username, password);
    auto it = entries_.find(username);
    if (it != entries_.end() && it->second.hash == hash) {
        auto& e = it->second;
        if (e.has_good && CRYPTO_memcmp(e.good.data(), m.data(), m.size()) == 0) {
            ++cached_checks_;
            return true;
        }
        for (const auto& b : e.bad) {
            if (CRYPTO_memcmp(b.data(), m.data(), m.size()) == 0) {
                ++cached_checks_;
                return false;
            }
        }
    }

    ++slow_checks_;
    bool ok = verifier_(password, hash);

    if (it == entries_.end()) {
        if (entries_.size() >= max_entries_) entries_.clear();  // crude, but bounded and rare
        it = entries_.emplace(std::string(username), Entry{}).first;
    }
    auto& e = it->second;
    if (e.hash != hash) e = Entry{std::string(hash), {}, false, {}};
    if (ok) {
        e.good = m;
        e.has_good = true;
    } else {
        if (e.bad.size() >= kBadPerEntry) e.bad.erase(e.bad.begin());
        e.bad.push_back(m);
    }
    return ok;
}

}  // namespace energyhub::broker
