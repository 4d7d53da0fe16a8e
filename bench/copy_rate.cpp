// bench_copy_rate: the PostgreSQL limit of the ingest path, with no MQTT at all. Drives
// postgres::ReadingStore::write_or_throw (the batch as one array per column, one INSERT into the
// partitioned readings table, one transaction per batch) with synthetic batches, exactly as the
// hub's worker does, then folds them into the hourly rollup as the hub does once a minute, and
// prints the rows per second it reached, the fold included.
//
// Usage: bench_copy_rate --dsn DSN [--readings N] [--batch-size B] [--devices D]
// Prints: copy_readings=N copy_seconds=S copy_rows_per_s=R cpu_ms_per_1000=C fold_seconds=F
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "domain/reading.hpp"
#include "postgres/reading_store.hpp"
#include "postgres/session.hpp"
#include "process_cpu.hpp"
#include "util/clock.hpp"
#include "util/logging.hpp"

using energyhub::bench::process_cpu_ms;

int main(int argc, char** argv) {
    std::string dsn;
    std::size_t readings = 200'000, batch_size = 5'000, devices = 1'000;
    CLI::App app{"Write rate of ReadingStore into the partitioned readings table (no MQTT)", "bench_copy_rate"};
    app.add_option("--dsn", dsn, "PostgreSQL DSN of a migrated database")->required();
    app.add_option("--readings", readings, "Readings to write")->capture_default_str();
    app.add_option("--batch-size", batch_size, "Readings per transaction (the hub's hub.batch_size)")->capture_default_str();
    app.add_option("--devices", devices, "Distinct device ids")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    energyhub::setup_logging("warn");

    try {
        energyhub::postgres::Session session(dsn);
        energyhub::postgres::ReadingStore store(session);

        // The batch is built once per write, like the worker's reused slots; every reading gets a
        // timestamp of its own so nothing hits the primary key.
        std::vector<energyhub::EnrichedReading> batch(batch_size);
        for (std::size_t i = 0; i < batch.size(); ++i) {
            auto& e = batch[i];
            e.reading.device_id = "copy-" + std::to_string(i % devices);
            e.user_id = "copy-user-" + std::to_string(i % devices / 5);
            e.device_type = "plug";
        }
        // Current readings, as the hub receives them: the fold adds them to the rollup afterwards.
        const std::int64_t base_ms = energyhub::SystemClock::instance().now_ms();
        std::int64_t ts = base_ms;

        // One warm-up batch (connection, partitions), not timed.
        auto fill = [&](std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) {
                auto& r = batch[i].reading;
                if (i % devices == 0) ++ts;
                r.ts_ms = ts;
                r.power_w = 100.0 + static_cast<double>(i % 977);
                r.energy_wh = 1000.0 + static_cast<double>(ts - base_ms) / 1000.0;
                r.voltage_v = 230.0;
                r.current_a = 0.43;
                batch[i].energy_delta_wh = 0.01;
            }
        };
        fill(batch.size());
        store.write_or_throw(batch);

        const double cpu0 = process_cpu_ms();
        const auto t0 = std::chrono::steady_clock::now();
        std::size_t written = 0;
        while (written < readings) {
            const std::size_t n = std::min(batch.size(), readings - written);
            fill(n);
            auto result = store.write_or_throw(std::span<const energyhub::EnrichedReading>(batch.data(), n));
            if (result.inserted != n) {
                std::fprintf(stderr, "bench_copy_rate: %zu of %zu rows were new\n", result.inserted, n);
                return 1;
            }
            written += n;
        }
        const double write_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        // The fold takes whole seconds up to now: the last reading's second has to be over (not timed).
        while (energyhub::SystemClock::instance().now_ms() / 1000 <= ts / 1000)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        const auto f0 = std::chrono::steady_clock::now();
        if (store.fold_rollup(std::chrono::milliseconds(0), std::chrono::hours(24)).device_hours == 0) {
            std::fprintf(stderr, "bench_copy_rate: the fold added nothing\n");
            return 1;
        }
        const double fold_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - f0).count();
        const double seconds = write_seconds + fold_seconds;
        const double cpu = process_cpu_ms() - cpu0;
        std::printf("copy_readings=%zu copy_seconds=%.3f copy_rows_per_s=%.0f cpu_ms_per_1000=%.2f fold_seconds=%.3f\n",
                    written, seconds, static_cast<double>(written) / seconds,
                    cpu * 1000.0 / static_cast<double>(written), fold_seconds);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_copy_rate: %s\n", e.what());
        return 1;
    }
    return 0;
}
