#include "postgres/session.hpp"

namespace energyhub::postgres {

pqxx::connection& Session::conn() {
    if (conn_ && conn_->is_open()) return *conn_;
    conn_.reset();
    auto fresh = std::make_unique<pqxx::connection>(dsn_);
    {
        pqxx::nontransaction tx(*fresh);
        tx.exec("SET TIME ZONE 'UTC'");
    }
    for (auto& hook : hooks_) hook(*fresh);
    conn_ = std::move(fresh);
    ++generation_;
    return *conn_;
}

}  // namespace energyhub::postgres
