#include "postgres/device_directory.hpp"

#include "postgres/array_literal.hpp"
#include "postgres/fields.hpp"

namespace energyhub::postgres {

namespace {

// Each id's registered device (a channel "<device>:<n>" is owned by its device) and its own latest
// stored counters, so usage continues across restarts.
constexpr const char* kFindSql = R"SQL(
SELECT q.i, d.device_id, d.user_id, d.type, coalesce(d.name, ''), l.ms, l.energy_wh, l.energy_export_wh, l.power_w
FROM unnest($1::text[]) WITH ORDINALITY AS q (id, i)
JOIN devices d ON d.device_id = split_part(q.id, ':', 1)
LEFT JOIN LATERAL (
    SELECT (extract(epoch FROM r.ts) * 1000)::bigint AS ms, r.energy_wh, r.energy_export_wh, r.power_w
    FROM readings r
    WHERE r.device_id = q.id AND (r.energy_wh IS NOT NULL OR r.energy_export_wh IS NOT NULL)
    ORDER BY r.ts DESC LIMIT 1
) l ON true
)SQL";

}  // namespace

std::optional<DeviceLookup> DeviceDirectory::find(std::string_view device_id) {
    const std::string one[] = {std::string(device_id)};
    return std::move(find_many(one).front());
}

std::vector<std::optional<DeviceLookup>> DeviceDirectory::find_many(std::span<const std::string> device_ids) {
    std::string ids = "{";
    for (const auto& id : device_ids) append_array_element(ids, id);
    ids += '}';
    return session_.run([&](pqxx::connection& conn) {
        std::vector<std::optional<DeviceLookup>> out(device_ids.size());
        pqxx::read_transaction tx(conn);
        for (const auto& row : tx.exec_params(kFindSql, ids)) {
            auto i = row[0].as<std::size_t>() - 1;
            if (i >= out.size()) continue;
            auto& found = out[i].emplace();
            found.record = {row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<std::string>(),
                            row[4].as<std::string>()};
            if (row[5].is_null()) continue;
            found.last_counters.ts_ms = row[5].as<std::int64_t>();
            found.last_counters.import_wh = optional_field<double>(row[6]);
            found.last_counters.export_wh = optional_field<double>(row[7]);
            found.last_counters.min_power_w = optional_field<double>(row[8]);
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
