#include "postgres/session.hpp"

namespace energyhub::postgres {

StoreError to_store_error(const std::exception& e) {
    if (dynamic_cast<const pqxx::broken_connection*>(&e) || dynamic_cast<const pqxx::in_doubt_error*>(&e))
        return {StoreFailure::unavailable, e.what()};
    if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
        const std::string_view cls = std::string_view(sql->sqlstate()).substr(0, 2);
        // 08 connection, 40 rollback (deadlock, serialization), 53 resources, 57 shutdown, 58 I/O.
        if (cls.empty() || cls == "08" || cls == "40" || cls == "53" || cls == "57" || cls == "58")
            return {StoreFailure::unavailable, e.what()};
        if (cls == "22" || cls == "23") return {StoreFailure::bad_data, e.what()};
        return {StoreFailure::refused, e.what()};
    }
    if (dynamic_cast<const pqxx::conversion_error*>(&e) || dynamic_cast<const pqxx::range_error*>(&e))
        return {StoreFailure::bad_data, e.what()};
    // The rest of pqxx::failure (a rollback, a lost commit) is worth retrying; its logic errors
    // (misuse of the library) are not.
    if (dynamic_cast<const pqxx::failure*>(&e)) return {StoreFailure::unavailable, e.what()};
    return {StoreFailure::refused, e.what()};
}

pqxx::connection& Session::conn() {
    if (conn_ && conn_->is_open()) return *conn_;
    conn_.reset();
    auto fresh = std::make_unique<pqxx::connection>(dsn_);
    {
        pqxx::nontransaction tx(*fresh);
        tx.exec("SET TIME ZONE 'UTC'");
    }
    conn_ = std::move(fresh);
    ++generation_;
    return *conn_;
}

}  // namespace energyhub::postgres
