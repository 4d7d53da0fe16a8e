#pragma once
// One PostgreSQL connection, owned by one thread, reopened after a failure. A libpq connection is
// not thread-safe, so every worker has its own session.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <pqxx/pqxx>

namespace energyhub::postgres {

class Session {
public:
    explicit Session(std::string dsn) : dsn_(std::move(dsn)) {}

    // The open connection, connecting first if needed. Throws pqxx::broken_connection.
    pqxx::connection& conn();

    // Drop the connection after an error; the next conn() reconnects.
    void reset() { conn_.reset(); }

    bool connected() const { return conn_ && conn_->is_open(); }

    // Increments on every new connection, so users can redo per-connection setup.
    std::uint64_t generation() const { return generation_; }

    // Runs after each new connection (LISTEN, temp tables...).
    void on_connect(std::function<void(pqxx::connection&)> hook) { hooks_.push_back(std::move(hook)); }

private:
    std::string dsn_;
    std::unique_ptr<pqxx::connection> conn_;
    std::uint64_t generation_ = 0;
    std::vector<std::function<void(pqxx::connection&)>> hooks_;
};

}  // namespace energyhub::postgres
