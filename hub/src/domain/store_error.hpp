#pragma once
// How a store failed, in words its callers can act on without knowing the database library: the
// adapters in postgres/ turn every libpqxx exception into a StoreError at their boundary.
#include <stdexcept>
#include <string>
#include <string_view>

namespace energyhub {

enum class StoreFailure {
    unavailable,  // cannot answer now (no connection, shutting down, out of resources): retry later
    refused,      // answered and said no (permissions, a trigger, a missing table): retrying may not help
    bad_data,     // the data itself was rejected (a value out of range, a constraint)
};

constexpr std::string_view to_string(StoreFailure failure) {
    switch (failure) {
        case StoreFailure::unavailable: return "unavailable";
        case StoreFailure::refused: return "refused";
        case StoreFailure::bad_data: return "bad_data";
    }
    return "unknown";
}

class StoreError : public std::runtime_error {
public:
    StoreError(StoreFailure failure, const std::string& what) : std::runtime_error(what), failure_(failure) {}
    StoreFailure failure() const noexcept { return failure_; }

private:
    StoreFailure failure_;
};

}  // namespace energyhub
