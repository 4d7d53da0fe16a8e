#include "postgres/migrator.hpp"

namespace energyhub::postgres {

namespace {
constexpr long long kMigrationLock = 0x656e6572677968;  // "energyh"
}

std::vector<std::string> migrate(pqxx::connection& conn, const std::vector<Migration>& migrations) {
    std::vector<std::string> applied;
    pqxx::nontransaction session(conn);
    session.exec_params("SELECT pg_advisory_lock($1)", kMigrationLock);
    try {
        session.exec(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
        session.commit();
        for (const auto& m : migrations) {
            pqxx::work tx(conn);
            if (!tx.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", m.version).empty()) continue;
            tx.exec(m.sql);
            tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name);
            tx.commit();
            applied.push_back(m.name);
        }
    } catch (...) {
        pqxx::nontransaction unlock(conn);
        unlock.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLock);
        throw;
    }
    pqxx::nontransaction unlock(conn);
    unlock.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLock);
    return applied;
}

}  // namespace energyhub::postgres
