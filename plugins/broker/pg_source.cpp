#include "broker/pg_source.hpp"

#include <poll.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <unordered_set>

namespace energyhub::broker {

namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr auto kStopCheck = std::chrono::milliseconds(250);
constexpr std::size_t kMaxDelta = 10'000;  // more changes than this at once: reload everything

struct ResultFree {
    void operator()(PGresult* r) const { PQclear(r); }
};

std::string text(const PGresult* r, int row, int col) {
    return PQgetisnull(r, row, col) ? std::string() : std::string(PQgetvalue(r, row, col), static_cast<std::size_t>(PQgetlength(r, row, col)));
}

std::int64_t integer(const PGresult* r, int row, int col) {
    const char* v = PQgetvalue(r, row, col);
    std::int64_t out = 0;
    auto [ptr, ec] = std::from_chars(v, v + PQgetlength(r, row, col), out);
    if (ec != std::errc{}) throw SourceError("unexpected value '" + std::string(v) + "' from the database");
    return out;
}

bool boolean(const PGresult* r, int row, int col) { return text(r, row, col) == "t"; }

std::string trimmed(const char* message) {
    std::string s = message ? message : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    auto nl = s.find('\n');
    if (nl != std::string::npos) s = s.substr(0, nl);  // the first line is the message; DETAIL etc. follow
    return s;
}

// A text[] literal for ANY($1::text[]).
std::string array_literal(const std::vector<std::string>& names) {
    std::string out = "{";
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i) out += ',';
        out += '"';
        for (char c : names[i]) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    out += '}';
    return out;
}

std::optional<Principal> account_principal(const std::string& role, const std::string& daemon, const std::string& user_id,
                                           std::string hash) {
    Principal p;
    p.secret_hash = std::move(hash);
    if (role == "service") {
        if (daemon == "hub") p.role = Role::hub;
        else if (daemon == "notifier") p.role = Role::notifier;
        else if (daemon == "insights") p.role = Role::insights;
        else return std::nullopt;
    } else if (role == "dashboard" && !user_id.empty()) {
        p.role = Role::dashboard;
        p.user_id = user_id;
    } else {
        return std::nullopt;
    }
    return p;
}

Principal conflict_principal() {
    Principal p;
    p.conflict = true;
    return p;
}

constexpr const char* kDeviceColumns = "SELECT device_id, user_id, secret_hash FROM devices WHERE secret_hash IS NOT NULL";
constexpr const char* kAccountColumns =
    "SELECT username, password_hash, role, coalesce(daemon, ''), coalesce(user_id, '') FROM mqtt_accounts";

}  // namespace

PgSource::PgSource(std::string dsn, Millis timeout, const std::atomic<bool>& stop)
    : dsn_(std::move(dsn)), timeout_(timeout), stop_(stop) {}

void PgSource::fail(const std::string& what) {
    conn_.reset();  // whatever state the session was in, start over next time
    throw SourceError(what);
}

void PgSource::wait_socket(bool for_write, SteadyClock::time_point deadline) {
    for (;;) {
        if (stop_.load()) fail("stopping");
        auto now = SteadyClock::now();
        if (now >= deadline)
            fail("no answer from PostgreSQL within " + std::to_string(timeout_.count()) + " ms");
        int fd = PQsocket(conn_.get());
        if (fd < 0) fail("PostgreSQL connection has no socket");
        pollfd p{fd, static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
        auto slice = std::min<SteadyClock::duration>(kStopCheck, deadline - now);
        int n = ::poll(&p, 1, static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(slice).count()) + 1);
        if (n > 0) return;  // ready, or an error libpq will report
    }
}

void PgSource::ensure_connected() {
    if (conn_ && PQstatus(conn_.get()) == CONNECTION_OK) return;
    conn_.reset();
    // The DSN comes last, so what it says wins over our application_name.
    const char* keys[] = {"application_name", "dbname", nullptr};
    const char* values[] = {"energyhub-mosquitto", dsn_.c_str(), nullptr};
    conn_.reset(PQconnectStartParams(keys, values, 1));
    if (!conn_) throw SourceError("cannot allocate a PostgreSQL connection");
    if (PQstatus(conn_.get()) == CONNECTION_BAD) fail("cannot connect to PostgreSQL: " + trimmed(PQerrorMessage(conn_.get())));
    auto deadline = SteadyClock::now() + timeout_;
    auto state = PGRES_POLLING_WRITING;
    for (;;) {
        if (state == PGRES_POLLING_OK) break;
        if (state == PGRES_POLLING_FAILED) fail("cannot connect to PostgreSQL: " + trimmed(PQerrorMessage(conn_.get())));
        wait_socket(state == PGRES_POLLING_WRITING, deadline);
        state = PQconnectPoll(conn_.get());
    }
}

void PgSource::exec(const char* sql, const std::vector<std::string>& params, const Row& row) {
    ensure_connected();
    PGconn* c = conn_.get();
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p.c_str());
    if (!PQsendQueryParams(c, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0))
        fail("PostgreSQL query failed: " + trimmed(PQerrorMessage(c)));
    PQsetSingleRowMode(c);  // rows arrive one by one: a large registry never sits in memory twice

    std::string error;
    auto deadline = SteadyClock::now() + timeout_;
    for (;;) {
        while (PQisBusy(c)) {
            wait_socket(false, deadline);
            if (!PQconsumeInput(c)) fail("PostgreSQL connection lost: " + trimmed(PQerrorMessage(c)));
            deadline = SteadyClock::now() + timeout_;  // progress: the timeout is for silence
        }
        std::unique_ptr<PGresult, ResultFree> result(PQgetResult(c));
        if (!result) break;
        switch (PQresultStatus(result.get())) {
        case PGRES_SINGLE_TUPLE:
        case PGRES_TUPLES_OK:
            if (error.empty() && row) {
                for (int i = 0; i < PQntuples(result.get()); ++i) row(result.get(), i);
            }
            break;
        case PGRES_COMMAND_OK:
            break;
        default:
            if (error.empty()) error = trimmed(PQresultErrorMessage(result.get()));
            break;
        }
    }
    if (!error.empty()) fail("PostgreSQL query failed: " + error);
    if (PQstatus(c) != CONNECTION_OK) fail("PostgreSQL connection lost");
}

bool PgSource::accounts_table() {
    bool exists = false;
    exec("SELECT to_regclass('mqtt_accounts') IS NOT NULL AND to_regclass('mqtt_account_changes') IS NOT NULL", {},
         [&](const PGresult* r, int i) { exists = boolean(r, i, 0); });
    return exists;
}

FullLoad PgSource::load_all() {
    FullLoad out;
    exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", {}, {});
    out.accounts_table = accounts_table();
    exec("SELECT coalesce(max(seq), 0) FROM device_changes", {},
         [&](const PGresult* r, int i) { out.position.devices = integer(r, i, 0); });
    if (out.accounts_table) {
        exec("SELECT coalesce(max(seq), 0) FROM mqtt_account_changes", {},
             [&](const PGresult* r, int i) { out.position.accounts = integer(r, i, 0); });
    }
    exec(kDeviceColumns, {}, [&](const PGresult* r, int i) {
        Principal p;
        p.role = Role::device;
        p.user_id = text(r, i, 1);
        p.secret_hash = text(r, i, 2);
        out.principals.insert_or_assign(text(r, i, 0), std::move(p));
        ++out.devices;
    });
    if (out.accounts_table) {
        exec(kAccountColumns, {}, [&](const PGresult* r, int i) {
            auto p = account_principal(text(r, i, 2), text(r, i, 3), text(r, i, 4), text(r, i, 1));
            if (!p) return;
            auto [it, inserted] = out.principals.try_emplace(text(r, i, 0), std::move(*p));
            if (!inserted) {
                it->second = conflict_principal();
                ++out.conflicts;
            }
            ++out.accounts;
        });
    }
    exec("COMMIT", {}, {});
    return out;
}

std::vector<Directory::Change> PgSource::lookup(const std::vector<std::string>& names) {
    std::unordered_map<std::string, std::vector<Principal>> found;
    auto literal = array_literal(names);
    exec((std::string(kDeviceColumns) + " AND device_id = ANY($1::text[])").c_str(), {literal}, [&](const PGresult* r, int i) {
        Principal p;
        p.role = Role::device;
        p.user_id = text(r, i, 1);
        p.secret_hash = text(r, i, 2);
        found[text(r, i, 0)].push_back(std::move(p));
    });
    if (accounts_table()) {
        exec((std::string(kAccountColumns) + " WHERE username = ANY($1::text[])").c_str(), {literal}, [&](const PGresult* r, int i) {
            auto p = account_principal(text(r, i, 2), text(r, i, 3), text(r, i, 4), text(r, i, 1));
            if (p) found[text(r, i, 0)].push_back(std::move(*p));
        });
    }
    std::vector<Directory::Change> changes;
    changes.reserve(names.size());
    for (const auto& name : names) {
        auto it = found.find(name);
        if (it == found.end()) changes.push_back({name, std::nullopt});
        else if (it->second.size() == 1) changes.push_back({name, std::move(it->second.front())});
        else changes.push_back({name, conflict_principal()});
    }
    return changes;
}

Delta PgSource::changes_since(const LogPosition& since) {
    Delta d;
    d.position = since;
    std::vector<std::string> names;
    std::unordered_set<std::string> seen;
    auto read_log = [&](const char* max_sql, const char* list_sql, std::int64_t from, std::int64_t& to) {
        std::int64_t max = 0;
        exec(max_sql, {}, [&](const PGresult* r, int i) { max = integer(r, i, 0); });
        if (max < from) {  // the log was reset (a restored or recreated database)
            d.needs_full_reload = true;
            return;
        }
        std::size_t rows = 0;
        exec(list_sql, {std::to_string(from)}, [&](const PGresult* r, int i) {
            ++rows;
            to = std::max(to, integer(r, i, 0));
            auto name = text(r, i, 1);
            if (seen.insert(name).second) names.push_back(std::move(name));
        });
        if (rows > kMaxDelta) d.needs_full_reload = true;
    };
    const std::string limit = " ORDER BY seq LIMIT " + std::to_string(kMaxDelta + 1);
    read_log("SELECT coalesce(max(seq), 0) FROM device_changes",
             ("SELECT seq, device_id FROM device_changes WHERE seq > $1" + limit).c_str(), since.devices, d.position.devices);
    if (!d.needs_full_reload && accounts_table()) {
        read_log("SELECT coalesce(max(seq), 0) FROM mqtt_account_changes",
                 ("SELECT seq, username FROM mqtt_account_changes WHERE seq > $1" + limit).c_str(), since.accounts,
                 d.position.accounts);
    }
    if (d.needs_full_reload) return d;
    if (!names.empty()) d.changes = lookup(names);
    return d;
}

}  // namespace energyhub::broker
