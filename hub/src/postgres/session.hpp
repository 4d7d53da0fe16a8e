#pragma once
// One PostgreSQL connection, owned by one thread, reopened after a failure. A libpq connection is
// not thread-safe, so every worker has its own session.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <pqxx/pqxx>

#include "domain/store_error.hpp"

namespace energyhub::postgres {

// What a libpqxx exception (its base()) means to a caller, by SQLSTATE class where there is one.
StoreError to_store_error(const std::exception& e);

class Session {
public:
    explicit Session(std::string dsn) : dsn_(std::move(dsn)) {}

    // Runs f on the open connection (connecting first if needed). Every adapter goes through here,
    // so no libpqxx exception leaves postgres/: a failure becomes a StoreError, and the connection is
    // dropped (a failed transaction may leave it unusable) to be reopened by the next call.
    template <typename F>
    auto run(F&& f) -> decltype(f(std::declval<pqxx::connection&>())) {
        try {
            return f(conn());
        } catch (const pqxx::pqxx_exception& e) {
            reset();
            throw to_store_error(e.base());
        }
    }

    // The open connection, connecting first if needed; throws libpqxx exceptions. For run() and
    // for the command-line tools, which stop at the first error.
    pqxx::connection& conn();

    // Drop the connection after an error; the next conn() reconnects.
    void reset() { conn_.reset(); }

    bool connected() const { return conn_ && conn_->is_open(); }

    // Increments on every new connection, so users can redo per-connection setup.
    std::uint64_t generation() const { return generation_; }

private:
    std::string dsn_;
    std::unique_ptr<pqxx::connection> conn_;
    std::uint64_t generation_ = 0;
};

}  // namespace energyhub::postgres
