#include "postgres/migrator.hpp"

#include <algorithm>
#include <set>

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

Probe probe_schema(const std::string& dsn, const std::vector<Migration>& migrations) {
    Probe probe{false, "dsn from postgres.dsn", ""};
    try {
        pqxx::connection conn(dsn);
        probe.target = conn.hostname() ? std::string(conn.hostname()) + ":" + conn.port() : "local socket";
        pqxx::read_transaction tx(conn);
        std::set<int> applied;
        for (const auto& row : tx.exec("SELECT version FROM schema_migrations")) applied.insert(row[0].as<int>());
        const auto missing = std::count_if(migrations.begin(), migrations.end(),
                                           [&](const Migration& m) { return !applied.contains(m.version); });
        probe.ok = missing == 0;
        if (applied.empty())
            probe.problem = "no migration applied: run 'energyhub migrate'";
        else if (missing > 0)
            probe.problem = std::to_string(missing) + " of " + std::to_string(migrations.size()) +
                            " migrations not applied: run 'energyhub migrate'";
    } catch (const pqxx::undefined_table&) {
        probe.problem = "no schema: run 'energyhub migrate'";
    } catch (const std::exception& e) {
        probe.problem = e.what();
    }
    return probe;
}

}  // namespace energyhub::postgres
