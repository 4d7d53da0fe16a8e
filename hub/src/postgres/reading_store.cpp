#include "postgres/reading_store.hpp"

#include <set>
#include <string_view>

#include <fmt/format.h>

#include "postgres/alert_store.hpp"
#include "util/timestamp.hpp"

namespace energyhub::postgres {

namespace {

// Batches merged after one met a reading stored already, before the plain insert is tried again.
constexpr std::uint32_t kMergesAfterDuplicate = 100;

// The batch, from one array per column (encode()).
constexpr std::string_view kBatch = R"SQL(
WITH batch AS (
    SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::float8[], $5::float8[], $6::float8[],
                         $7::float8[], $8::float8[], $9::float8[], $10::float8[])
        AS b (device_id, ts, user_id, power_w, energy_wh, voltage_v, current_a, energy_delta_wh,
              energy_export_wh, export_delta_wh)
))SQL";

constexpr std::string_view kColumns =
    "readings (device_id, ts, user_id, power_w, energy_wh, voltage_v, current_a, energy_delta_wh, "
    "energy_export_wh, export_delta_wh)";

// The rows of `{}` added to their hours of the rollup. The UTC hour by date_bin: date_trunc with a
// time zone looked the zone up for every row, about a microsecond each.
constexpr std::string_view kRollup = R"SQL(
    INSERT INTO readings_hourly_folded AS h
        (device_id, hour, user_id, samples, power_samples, power_sum, power_max, power_min, energy_wh, export_wh)
    SELECT device_id, date_bin('1 hour', ts, timestamptz 'epoch'), max(user_id), count(*), count(power_w),
           coalesce(sum(power_w), 0), max(power_w), min(power_w), coalesce(sum(energy_delta_wh), 0),
           coalesce(sum(export_delta_wh), 0)
    FROM {} GROUP BY 1, 2
    ON CONFLICT (device_id, hour) DO UPDATE SET
        user_id = EXCLUDED.user_id,
        samples = h.samples + EXCLUDED.samples,
        power_samples = h.power_samples + EXCLUDED.power_samples,
        power_sum = h.power_sum + EXCLUDED.power_sum,
        power_max = greatest(h.power_max, EXCLUDED.power_max),
        power_min = least(h.power_min, EXCLUDED.power_min),
        energy_wh = h.energy_wh + EXCLUDED.energy_wh,
        export_wh = h.export_wh + EXCLUDED.export_wh)SQL";

// Readings older than this are in the stored rows of the rollup (schema/009_rollup_fold.sql).
constexpr std::string_view kFolded = "(SELECT folded_before FROM rollup_fold)";

// Every batch holds the rollup's lock shared, the fold alone: no batch commits readings into the
// range a fold is passing over. Any number, the same in every writer.
constexpr std::int64_t kRollupLock = 8'260'417'001;
const std::string kShareRollupSql = fmt::format("SELECT pg_advisory_xact_lock_shared({})", kRollupLock);
const std::string kHoldRollupSql = fmt::format("SELECT pg_advisory_xact_lock({})", kRollupLock);

// Every row of the batch is new: a plain INSERT (no speculative insertion, no confirmation record
// per row in the WAL); the rows already folded over (late ones) go into the rollup, the rest are
// summed from the readings until the next fold.
const std::string kInsertSql = fmt::format("{}, rollup AS ({}) INSERT INTO {} SELECT * FROM batch", kBatch,
                                           fmt::format(kRollup, fmt::format("batch WHERE ts < {}", kFolded)), kColumns);

// After a redelivery or a replay: what is stored already is skipped, and only the rows that were
// really new (and late) go into the rollup.
const std::string kMergeSql = fmt::format(
    "{}, ins AS (INSERT INTO {} SELECT * FROM batch ON CONFLICT (device_id, ts) DO NOTHING "
    "RETURNING device_id, ts, user_id, power_w, energy_delta_wh, export_delta_wh), rollup AS ({}) SELECT count(*) FROM "
    "ins",
    kBatch, kColumns, fmt::format(kRollup, fmt::format("ins WHERE ts < {}", kFolded)));

// The fold: from where the last one stopped to `age` before now (whole seconds), at most `span`
// of readings at once; and whether that reached it.
constexpr std::string_view kFoldRangeSql = R"SQL(
SELECT folded_before::text, fold_to::text, fold_to = target, (extract(epoch FROM fold_to) * 1000)::bigint
FROM (SELECT folded_before, target, least(target, folded_before + $2 * interval '1 millisecond') AS fold_to
      FROM (SELECT folded_before, greatest(folded_before, date_trunc('second', now()) - $1 * interval '1 millisecond')
                   AS target
            FROM rollup_fold) t) f)SQL";
const std::string kFoldSql =
    fmt::format("WITH moved AS (UPDATE rollup_fold SET folded_before = $2::timestamptz) {}",
                fmt::format(kRollup, "readings WHERE ts >= $1::timestamptz AND ts < $2::timestamptz"));

}  // namespace

// The batch as one binary array per column, in the order of kBatch's parameters.
std::vector<pqxx::binarystring> ReadingStore::encode(std::span<const EnrichedReading> batch) {
    using enum ElementType;
    constexpr std::array<ElementType, 10> types = {text,   timestamptz, text,   float8, float8,
                                                   float8, float8,      float8, float8, float8};
    for (std::size_t i = 0; i < columns_.size(); ++i) columns_[i].start(types[i]);
    for (const auto& e : batch) {
        columns_[0].add(e.reading.device_id);
        columns_[1].add_timestamp_ms(e.reading.ts_ms);
        columns_[2].add(e.user_id);
        columns_[3].add(e.reading.power_w);
        columns_[4].add(e.reading.energy_wh);
        columns_[5].add(e.reading.voltage_v);
        columns_[6].add(e.reading.current_a);
        columns_[7].add(e.energy_delta_wh);
        columns_[8].add(e.reading.energy_export_wh);
        columns_[9].add(e.export_delta_wh);
    }
    std::vector<pqxx::binarystring> params;
    for (auto& column : columns_) {
        const auto& bytes = column.bytes();
        params.emplace_back(bytes.data(), bytes.size());
    }
    return params;
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
        if (known_generation_ != session_.generation()) {
            partitions_.forget();  // a new connection: they may have been dropped while we were away
            known_generation_ = session_.generation();
        }
        std::set<std::int64_t> days;
        for (const auto& e : batch) days.insert(day_start_ms(e.reading.ts_ms));
        partitions_.ensure(conn, days);

        const auto c = encode(batch);
        // A batch with a reading stored already is rare (a redelivery, the spool replayed after a
        // restart): the plain insert is tried first, and the merge after it met one, for a while, so
        // a source of duplicates does not cost every batch a failed insert.
        if (merges_left_ > 0) {
            --merges_left_;
        } else {
            try {
                pqxx::work tx(conn);
                tx.exec(kShareRollupSql);
                result.inserted = tx.exec_params(kInsertSql, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9])
                                      .affected_rows();
                result.new_alerts = insert_alerts(tx, alerts);
                tx.commit();
                return result;
            } catch (const pqxx::unique_violation&) {
                merges_left_ = kMergesAfterDuplicate;  // rolled back; the connection stays usable
            }
        }
        pqxx::work tx(conn);
        tx.exec(kShareRollupSql);
        result.inserted = tx.exec_params(kMergeSql, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9])[0][0]
                              .as<std::size_t>();
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

FoldResult ReadingStore::fold_rollup(std::chrono::milliseconds age, std::chrono::milliseconds span) {
    return session_.run([&](pqxx::connection& conn) {
        pqxx::work tx(conn);
        tx.exec(kHoldRollupSql);
        const auto range = tx.exec_params1(std::string(kFoldRangeSql), static_cast<long long>(age.count()),
                                           static_cast<long long>(span.count()));
        FoldResult result{0, range[2].as<bool>(), range[3].as<std::int64_t>()};
        const auto from = range[0].as<std::string>(), to = range[1].as<std::string>();
        if (from == to) return result;
        result.device_hours = tx.exec_params(kFoldSql, from, to).affected_rows();
        tx.commit();
        return result;
    });
}

}  // namespace energyhub::postgres
