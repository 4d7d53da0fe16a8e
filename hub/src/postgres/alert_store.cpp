#include "postgres/alert_store.hpp"

namespace energyhub::postgres {

std::vector<std::size_t> insert_alerts(pqxx::work& tx, std::span<const Alert> alerts) {
    std::vector<std::size_t> fresh;
    for (std::size_t i = 0; i < alerts.size(); ++i) {
        const auto& a = alerts[i];
        auto r = tx.exec_params(
            "INSERT INTO alerts (id, user_id, device_id, rule, state, value, threshold, since, ts, message) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8 / 1000.0), to_timestamp($9 / 1000.0), $10) "
            "ON CONFLICT (id) DO NOTHING RETURNING 1",
            a.id, a.user_id, a.device_id, std::string(rule_name(a.rule)), std::string(alert_state_name(a.state)),
            a.value, a.threshold, a.since_ms, a.ts_ms, a.message);
        if (!r.empty()) fresh.push_back(i);
    }
    return fresh;
}

Alert alert_from_row(const pqxx::row& r) {
    Alert a;
    a.id = r[0].as<std::string>();
    a.user_id = r[1].as<std::string>();
    a.device_id = r[2].as<std::string>();
    a.rule = rule_from_name(r[3].as<std::string>()).value_or(RuleKind::power_above);
    a.state = r[4].as<std::string>() == "firing" ? AlertState::firing : AlertState::resolved;
    a.value = r[5].as<double>();
    a.threshold = r[6].as<double>();
    a.since_ms = r[7].as<std::int64_t>();
    a.ts_ms = r[8].as<std::int64_t>();
    a.message = r[9].as<std::string>();
    return a;
}

std::vector<Alert> firing_alerts(pqxx::connection& conn) {
    pqxx::read_transaction tx(conn);
    std::vector<Alert> out;
    auto rows = tx.exec(
        "SELECT id, user_id, device_id, rule, state, value, threshold, (extract(epoch FROM since) * 1000)::bigint, "
        "       (extract(epoch FROM ts) * 1000)::bigint, message "
        "FROM (SELECT DISTINCT ON (device_id, rule) * FROM alerts ORDER BY device_id, rule, ts DESC, state) latest "
        "WHERE state = 'firing'");
    for (const auto& r : rows) out.push_back(alert_from_row(r));
    return out;
}

std::vector<SeenDevice> recently_seen_devices(pqxx::connection& conn, int days) {
    pqxx::read_transaction tx(conn);
    std::vector<SeenDevice> out;
    // The rollup's last hour bounds "last seen" from below without scanning raw readings. Channels
    // ("<device>:<n>") are watched like devices, with their device's owner.
    auto rows = tx.exec_params(
        "SELECT h.device_id, d.user_id, d.type, (extract(epoch FROM max(h.hour)) * 1000)::bigint "
        "FROM devices d JOIN readings_hourly h ON split_part(h.device_id, ':', 1) = d.device_id "
        "WHERE h.hour > now() - $1 * interval '1 day' GROUP BY 1, 2, 3",
        days);
    for (const auto& r : rows)
        out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::int64_t>()});
    return out;
}

}  // namespace energyhub::postgres
