#pragma once
// Reading query results: a column that may be NULL.
#include <optional>

#include <pqxx/pqxx>

namespace energyhub::postgres {

template <typename T>
std::optional<T> optional_field(const pqxx::field& f) {
    return f.is_null() ? std::nullopt : std::optional<T>(f.as<T>());
}

}  // namespace energyhub::postgres
