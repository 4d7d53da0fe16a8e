#include "postgres/device_directory.hpp"

#include "postgres/array_literal.hpp"
#include "postgres/fields.hpp"

namespace energyhub::postgres {

namespace {

// Each id's latest stored counters (a channel's own), so usage continues across restarts.
constexpr std::string_view kLatestCounters = R"SQL(
LEFT JOIN LATERAL (
    SELECT (extract(epoch FROM r.ts) * 1000)::bigint AS ms, r.energy_wh, r.energy_export_wh, r.power_w
    FROM readings r
    WHERE r.device_id = q.id AND (r.energy_wh IS NOT NULL OR r.energy_export_wh IS NOT NULL)
    ORDER BY r.ts DESC LIMIT 1
) l ON true
)SQL";

// Each id's registered device (a channel "<device>:<n>" is owned by its device), its owner's time
// zone, and its counters.
const std::string kFindSql = std::string(R"SQL(
SELECT q.i, d.device_id, d.user_id, d.type, coalesce(d.name, ''), coalesce(u.tz, 'UTC'),
       l.ms, l.energy_wh, l.energy_export_wh, l.power_w
FROM unnest($1::text[]) WITH ORDINALITY AS q (id, i)
JOIN devices d ON d.device_id = split_part(q.id, ':', 1)
LEFT JOIN users u ON u.user_id = d.user_id)SQL") +
                             std::string(kLatestCounters);

const std::string kCountersSql = std::string(R"SQL(
SELECT q.i, l.ms, l.energy_wh, l.energy_export_wh, l.power_w
FROM unnest($1::text[]) WITH ORDINALITY AS q (id, i))SQL") +
                                 std::string(kLatestCounters);

std::string id_array(std::span<const std::string> device_ids) {
    std::string ids = "{";
    for (const auto& id : device_ids) append_array_element(ids, id);
    ids += '}';
    return ids;
}

// Columns first..first+3 of a row: the counters' time (NULL: none stored), import, export, power.
CounterState counters_from(const pqxx::row& row, int first) {
    CounterState c;
    if (row[first].is_null()) return c;
    c.ts_ms = row[first].as<std::int64_t>();
    c.import_wh = optional_field<double>(row[first + 1]);
    c.export_wh = optional_field<double>(row[first + 2]);
    c.min_power_w = optional_field<double>(row[first + 3]);
    return c;
}

}  // namespace

std::optional<DeviceLookup> DeviceDirectory::find(std::string_view device_id) {
    const std::string one[] = {std::string(device_id)};
    return std::move(find_many(one).front());
}

std::vector<std::optional<DeviceLookup>> DeviceDirectory::find_many(std::span<const std::string> device_ids) {
    const auto ids = id_array(device_ids);
    return session_.run([&](pqxx::connection& conn) {
        std::vector<std::optional<DeviceLookup>> out(device_ids.size());
        pqxx::read_transaction tx(conn);
        for (const auto& row : tx.exec_params(kFindSql, ids)) {
            auto i = row[0].as<std::size_t>() - 1;
            if (i >= out.size()) continue;
            auto& found = out[i].emplace();
            found.record = {row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<std::string>(),
                            row[4].as<std::string>(), row[5].as<std::string>()};
            found.last_counters = counters_from(row, 6);
        }
        return out;
    });
}

std::vector<CounterState> DeviceDirectory::latest_counters(std::span<const std::string> device_ids) {
    const auto ids = id_array(device_ids);
    return session_.run([&](pqxx::connection& conn) {
        std::vector<CounterState> out(device_ids.size());
        pqxx::read_transaction tx(conn);
        for (const auto& row : tx.exec_params(kCountersSql, ids)) {
            auto i = row[0].as<std::size_t>() - 1;
            if (i < out.size()) out[i] = counters_from(row, 1);
        }
        return out;
    });
}

std::vector<std::string> DeviceDirectory::changes() {
    return session_.run([&](pqxx::connection& conn) {
        pqxx::read_transaction tx(conn);
        std::vector<std::string> out;
        if (!seen_seq_) {
            seen_seq_ = tx.exec("SELECT coalesce(max(seq), 0) FROM device_changes")[0][0].as<std::int64_t>();
            return out;
        }
        for (const auto& row : tx.exec_params(
                 "SELECT seq, device_id FROM device_changes WHERE seq > $1 ORDER BY seq LIMIT 10000", *seen_seq_)) {
            seen_seq_ = row[0].as<std::int64_t>();
            out.push_back(row[1].as<std::string>());
        }
        return out;
    });
}

}  // namespace energyhub::postgres
