#include "postgres/reading_store.hpp"

#include <charconv>

#include <pqxx/tablewriter>
#include <set>

#include "postgres/alert_store.hpp"
#include "util/timestamp.hpp"

namespace energyhub::postgres {

namespace {

const std::vector<std::string> kStageColumns = {"device_id", "ts",        "user_id",         "power_w",
                                                "energy_wh", "voltage_v", "current_a",       "energy_delta_wh",
                                                "energy_export_wh", "export_delta_wh"};

void append_number(std::string& out, const std::optional<double>& v) {
    out += '\t';
    if (!v) {
        out += "\\N";
        return;
    }
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *v);
    out.append(buf, ec == std::errc{} ? end : buf);
}

constexpr const char* kMergeSql = R"SQL(
WITH ins AS (
    INSERT INTO readings (device_id, ts, user_id, power_w, energy_wh, voltage_v, current_a, energy_delta_wh,
                          energy_export_wh, export_delta_wh)
    SELECT device_id, ts, user_id, power_w, energy_wh, voltage_v, current_a, energy_delta_wh,
           energy_export_wh, export_delta_wh FROM readings_stage
    ON CONFLICT (device_id, ts) DO NOTHING
    RETURNING device_id, ts, user_id, power_w, energy_delta_wh, export_delta_wh
), rollup AS (
    INSERT INTO readings_hourly AS h
        (device_id, hour, user_id, samples, power_samples, power_sum, power_max, power_min, energy_wh, export_wh)
    SELECT device_id, date_trunc('hour', ts, 'UTC'), max(user_id), count(*), count(power_w),
           coalesce(sum(power_w), 0), max(power_w), min(power_w), coalesce(sum(energy_delta_wh), 0),
           coalesce(sum(export_delta_wh), 0)
    FROM ins GROUP BY 1, 2
    ON CONFLICT (device_id, hour) DO UPDATE SET
        user_id = EXCLUDED.user_id,
        samples = h.samples + EXCLUDED.samples,
        power_samples = h.power_samples + EXCLUDED.power_samples,
        power_sum = h.power_sum + EXCLUDED.power_sum,
        power_max = greatest(h.power_max, EXCLUDED.power_max),
        power_min = least(h.power_min, EXCLUDED.power_min),
        energy_wh = h.energy_wh + EXCLUDED.energy_wh,
        export_wh = h.export_wh + EXCLUDED.export_wh
)
SELECT count(*) FROM ins
)SQL";

}  // namespace

// Text COPY rows. Ids are validated to [A-Za-z0-9_.:-], so they need no escaping.
void ReadingStore::encode(std::span<const EnrichedReading> batch) {
    copy_text_.clear();
    char ts[kTimestampBufferSize];
    for (const auto& e : batch) {
        if (!copy_text_.empty()) copy_text_ += '\n';
        copy_text_ += e.reading.device_id;
        copy_text_ += '\t';
        copy_text_.append(ts, format_timestamp(e.reading.ts_ms, ts));
        copy_text_ += '\t';
        copy_text_ += e.user_id;
        append_number(copy_text_, e.reading.power_w);
        append_number(copy_text_, e.reading.energy_wh);
        append_number(copy_text_, e.reading.voltage_v);
        append_number(copy_text_, e.reading.current_a);
        append_number(copy_text_, e.energy_delta_wh);
        append_number(copy_text_, e.reading.energy_export_wh);
        append_number(copy_text_, e.export_delta_wh);
    }
}

StoreOutcome ReadingStore::write(std::span<const EnrichedReading> batch, std::span<const Alert> alerts) {
    StoreOutcome out;
    try {
        out.result = write_or_throw(batch, alerts);
        out.stored = true;
    } catch (const StoreError& e) {
        out.failure = e.failure();
        out.error = e.what();
    }
    return out;
}

StoreResult ReadingStore::write_or_throw(std::span<const EnrichedReading> batch, std::span<const Alert> alerts) {
    if (batch.empty() && alerts.empty()) return {};
    return session_.run([&](pqxx::connection& conn) {
        StoreResult result;
        if (batch.empty()) {
            pqxx::work tx(conn);
            result.new_alerts = insert_alerts(tx, alerts);
            tx.commit();
            return result;
        }
        if (staged_generation_ != session_.generation()) {
            pqxx::nontransaction tx(conn);
            tx.exec(
                "CREATE TEMP TABLE IF NOT EXISTS readings_stage (LIKE readings INCLUDING DEFAULTS) ON COMMIT DELETE "
                "ROWS");
            staged_generation_ = session_.generation();
            partitions_.forget();  // may have been dropped while we were away
        }
        std::set<std::int64_t> days;
        for (const auto& e : batch) days.insert(day_start_ms(e.reading.ts_ms));
        partitions_.ensure(conn, days);

        encode(batch);
        pqxx::work tx(conn);
        {
            // tablewriter is deprecated in favour of stream_to, which formats row by row; the whole
            // batch is already COPY text, and write_raw_line sends it in one call.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
            pqxx::tablewriter copy(tx, "readings_stage", kStageColumns.begin(), kStageColumns.end());
#pragma GCC diagnostic pop
            copy.write_raw_line(copy_text_);
            copy.complete();
        }
        result.inserted = tx.exec(kMergeSql)[0][0].as<std::size_t>();
        result.duplicates = batch.size() - result.inserted;
        result.new_alerts = insert_alerts(tx, alerts);
        tx.commit();
        return result;
    });
}

std::vector<SeenDevice> ReadingStore::recently_seen_devices(int days) {
    return session_.run([&](pqxx::connection& conn) { return postgres::recently_seen_devices(conn, days); });
}

std::vector<Alert> ReadingStore::firing_alerts() {
    return session_.run([&](pqxx::connection& conn) { return postgres::firing_alerts(conn); });
}

std::vector<std::string> ReadingStore::maintain_partitions(std::int64_t now_ms, int ahead, int retention_days) {
    return session_.run(
        [&](pqxx::connection& conn) { return partitions_.maintain(conn, now_ms, ahead, retention_days); });
}

}  // namespace energyhub::postgres
