#include "postgres/device_directory.hpp"

#include "domain/ids.hpp"

namespace energyhub::postgres {

std::optional<DeviceLookup> DeviceDirectory::find(std::string_view device_id) {
    return session_.run([&](pqxx::connection& conn) -> std::optional<DeviceLookup> {
        pqxx::read_transaction tx(conn);
        // A channel "<device>:<n>" is owned by its device; its counter is its own.
        std::string id(device_id), parent(parent_device_id(device_id));
        auto r = tx.exec_params("SELECT device_id, user_id, type, coalesce(name, '') FROM devices WHERE device_id = $1",
                                parent);
        if (r.empty()) return std::nullopt;
        DeviceLookup out;
        out.record = {r[0][0].as<std::string>(), r[0][1].as<std::string>(), r[0][2].as<std::string>(),
                      r[0][3].as<std::string>()};
        auto last = tx.exec_params(
            "SELECT (extract(epoch FROM ts) * 1000)::bigint, energy_wh, energy_export_wh, power_w FROM readings "
            "WHERE device_id = $1 AND (energy_wh IS NOT NULL OR energy_export_wh IS NOT NULL) ORDER BY ts DESC LIMIT 1",
            id);
        if (!last.empty()) {
            auto opt = [](const pqxx::field& f) {
                return f.is_null() ? std::nullopt : std::optional<double>(f.as<double>());
            };
            out.last_counters.ts_ms = last[0][0].as<std::int64_t>();
            out.last_counters.import_wh = opt(last[0][1]);
            out.last_counters.export_wh = opt(last[0][2]);
            out.last_counters.min_power_w = opt(last[0][3]);
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
