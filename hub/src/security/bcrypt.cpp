#include "security/bcrypt.hpp"

#include <crypt.h>

#include <memory>
#include <stdexcept>

namespace energyhub {

namespace {

std::string crypt_with(std::string_view password, const char* setting) {
    auto data = std::make_unique<crypt_data>();  // about 32 KB: not for the stack
    const std::string text(password);
    const char* out = crypt_r(text.c_str(), setting, data.get());
    if (!out || out[0] == '*') throw std::runtime_error("bcrypt is not available in this libcrypt");
    return out;
}

}  // namespace

std::string hash_bcrypt(std::string_view password, int cost) {
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, setting, sizeof setting))
        throw std::runtime_error("cannot make a bcrypt salt");
    return crypt_with(password, setting);
}

}  // namespace energyhub
