#pragma once
// Reads devices and MQTT accounts from PostgreSQL with libpq, for the refresher thread only.
// Every wait is bounded: connecting and each stretch of silence while a query runs give up after
// the configured timeout, and a stop request ends any wait within a quarter second, so a dead or
// blackholed database never holds the thread (or the broker's shutdown) for long.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <libpq-fe.h>

#include "broker/directory.hpp"
#include "broker/options.hpp"

namespace energyhub::broker {

// The database cannot answer now (connection, timeout, query error). The message names no secret.
class SourceError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// How far the change logs have been read.
struct LogPosition {
    std::int64_t devices = 0;   // device_changes.seq
    std::int64_t accounts = 0;  // mqtt_account_changes.seq
    bool operator==(const LogPosition&) const = default;
};

struct FullLoad {
    Directory::Map principals;
    LogPosition position;
    bool accounts_table = false;  // false: migration 004 not applied, devices only
    std::size_t devices = 0;
    std::size_t accounts = 0;
    std::size_t conflicts = 0;
};

struct Delta {
    std::vector<Directory::Change> changes;
    LogPosition position;
    bool needs_full_reload = false;  // the logs went backwards or too much changed
};

class PgSource {
public:
    PgSource(std::string dsn, Millis timeout, const std::atomic<bool>& stop);

    // Every device with a secret and every account, with the log positions they reflect (one
    // repeatable-read snapshot).
    FullLoad load_all();

    // The principals whose names appear in the change logs after `since`, as they are now.
    Delta changes_since(const LogPosition& since);

    void disconnect() { conn_.reset(); }
    bool connected() const { return conn_ != nullptr; }

private:
    using Row = std::function<void(const PGresult*, int row)>;
    void ensure_connected();
    void wait_socket(bool for_write, std::chrono::steady_clock::time_point deadline);
    void exec(const char* sql, const std::vector<std::string>& params, const Row& row);
    bool accounts_table();
    std::vector<Directory::Change> lookup(const std::vector<std::string>& names);
    [[noreturn]] void fail(const std::string& what);

    struct ConnCloser {
        void operator()(PGconn* c) const { PQfinish(c); }
    };
    std::string dsn_;
    Millis timeout_;
    const std::atomic<bool>& stop_;
    std::unique_ptr<PGconn, ConnCloser> conn_;
};

}  // namespace energyhub::broker
