#pragma once
// Applies the numbered SQL files of schema/ (compiled into the binary) in order, each once, each in
// its own transaction, recorded in schema_migrations. Safe to run concurrently: an advisory lock
// serialises migrators.
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "util/probe.hpp"

namespace energyhub::postgres {

struct Migration {
    int version;
    std::string name;
    std::string sql;
};

// The migrations built from schema/*.sql.
const std::vector<Migration>& bundled_migrations();

// Whether the database at `dsn` answers and has every bundled migration (check-config --connect).
Probe probe_schema(const std::string& dsn, const std::vector<Migration>& migrations = bundled_migrations());

// Returns the names of the migrations applied now (empty when up to date).
std::vector<std::string> migrate(pqxx::connection& conn, const std::vector<Migration>& migrations = bundled_migrations());

}  // namespace energyhub::postgres
