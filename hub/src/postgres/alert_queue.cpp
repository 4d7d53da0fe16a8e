#include "postgres/alert_queue.hpp"

#include <map>

#include "postgres/alert_store.hpp"

namespace energyhub::postgres {

namespace {

// '{id,id}' for a uuid[] parameter; ids are uuids, so nothing needs quoting.
std::string uuid_array(const std::vector<std::string>& ids) {
    std::string out = "{";
    for (const auto& id : ids) {
        if (out.size() > 1) out += ',';
        out += id;
    }
    return out + "}";
}

}  // namespace

// Through the session, so failures are StoreErrors; a claim's transaction goes before its connection.
template <typename F>
auto AlertQueue::guarded(F&& f) {
    return session_.run([&](pqxx::connection& conn) {
        try {
            return f(conn);
        } catch (...) {
            claim_.reset();
            throw;
        }
    });
}

std::vector<UserQueue> AlertQueue::due() {
    return guarded([&](pqxx::connection& conn) {
        pqxx::read_transaction tx(conn);
        auto rows =
            tx.exec_params(R"SQL(
            SELECT a.id, a.user_id, a.device_id, a.rule, a.state, a.value, a.threshold,
                   (extract(epoch FROM a.since) * 1000)::bigint, (extract(epoch FROM a.ts) * 1000)::bigint, a.message,
                   u.email, coalesce(u.name, u.user_id), u.tz, coalesce(d.name, a.device_id),
                   to_char(a.since AT TIME ZONE u.tz, 'YYYY-MM-DD HH24:MI'), to_char(a.ts AT TIME ZONE u.tz, 'YYYY-MM-DD HH24:MI'),
                   CASE WHEN $1 = '' THEN false
                        WHEN $1::time < $2::time THEN (now() AT TIME ZONE u.tz)::time >= $1::time AND (now() AT TIME ZONE u.tz)::time < $2::time
                        ELSE (now() AT TIME ZONE u.tz)::time >= $1::time OR (now() AT TIME ZONE u.tz)::time < $2::time END,
                   (SELECT count(DISTINCT s.email_message_id) FROM alerts s
                     WHERE s.user_id = a.user_id AND s.notified_at > now() - interval '1 hour')
            FROM alerts a JOIN users u ON u.user_id = a.user_id LEFT JOIN devices d ON d.device_id = a.device_id
            WHERE a.notified_at IS NULL AND a.failed_at IS NULL AND (a.next_attempt_at IS NULL OR a.next_attempt_at <= now())
            ORDER BY a.user_id, a.ts, a.state
            LIMIT 1000)SQL",
                           config_.quiet_from, config_.quiet_to.empty() ? std::string("00:00") : config_.quiet_to);
        std::vector<UserQueue> out;
        for (const auto& r : rows) {
            PendingAlert p;
            p.alert = alert_from_row(r);
            const auto& a = p.alert;
            p.email = r[10].as<std::string>();
            p.user_name = r[11].as<std::string>();
            p.time_zone = r[12].as<std::string>();
            p.device_name = r[13].as<std::string>();
            p.since_local = r[14].as<std::string>();
            p.ts_local = r[15].as<std::string>();
            if (out.empty() || out.back().alerts.front().alert.user_id != a.user_id) {
                out.emplace_back();
                out.back().quiet = r[16].as<bool>();
                out.back().emails_last_hour = r[17].as<int>();
            }
            out.back().alerts.push_back(std::move(p));
        }
        return out;
    });
}

bool AlertQueue::claim(const std::vector<PendingAlert>& alerts) {
    return guarded([&](pqxx::connection& conn) {
        claimed_ids_.clear();
        for (const auto& p : alerts) claimed_ids_.push_back(p.alert.id);
        claim_ = std::make_unique<pqxx::work>(conn);
        auto locked = claim_->exec_params(
            "SELECT id FROM alerts WHERE id = ANY($1::uuid[]) AND notified_at IS NULL AND failed_at IS NULL "
            "FOR UPDATE SKIP LOCKED",
            uuid_array(claimed_ids_));
        if (locked.size() != claimed_ids_.size()) {
            claim_.reset();  // rolls back: someone else has some of them
            return false;
        }
        return true;
    });
}

void AlertQueue::sent(const std::string& message_id) {
    return guarded([&](pqxx::connection&) {
        claim_->exec_params(
            "UPDATE alerts SET notified_at = now(), email_message_id = $2, notify_attempts = notify_attempts + 1, "
            "notify_error = NULL WHERE id = ANY($1::uuid[])",
            uuid_array(claimed_ids_), message_id);
        claim_->commit();
        claim_.reset();
    });
}

bool AlertQueue::failed(const std::string& error, bool retry) {
    return guarded([&](pqxx::connection&) {
        // Exponential backoff from retry_initial, capped at retry_max; the budget is max_attempts.
        auto r = claim_->exec_params(
            "UPDATE alerts SET notify_attempts = notify_attempts + 1, notify_error = $2, "
            "  next_attempt_at = now() + least($4::bigint, $3::bigint * (2 ^ least(notify_attempts, 30))::bigint) * "
            "interval '1 millisecond', "
            "  failed_at = CASE WHEN NOT $5 OR notify_attempts + 1 >= $6 THEN now() END "
            "WHERE id = ANY($1::uuid[]) RETURNING failed_at IS NOT NULL",
            uuid_array(claimed_ids_), error.substr(0, 500), static_cast<long long>(config_.retry_initial.count()),
            static_cast<long long>(config_.retry_max.count()), retry, config_.max_attempts);
        claim_->commit();
        claim_.reset();
        return !r.empty() && r[0][0].as<bool>();
    });
}

}  // namespace energyhub::postgres
