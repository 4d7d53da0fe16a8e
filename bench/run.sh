#!/usr/bin/env bash
# The energyhub benchmark: the limits of this machine and the hub against them, in one run,
# printed as one table. Results and how to read them: bench/README.md.
#
# Usage: bench/run.sh [--quick] [--only NAME,NAME...] [--keep] [--sd-seconds N]
#   --quick   smaller counts (a smoke run, about 2 minutes)
#   --only    run only these cases: limits, copy, hub, naive, latency, scale, tuned, sd, fleet
#   --keep    keep the work folder (configs, logs, raw results)
#   --sd-seconds  the window of each SD case (default 60, --quick 20): a longer one spreads a
#             checkpoint's page writes over more readings, as a server running for hours does
# Environment: ENERGYHUB_BUILD_DIR (default build). Starts the private servers of
# scripts/stack.sh if they are not running, and leaves them running.
#
# Build first: cmake --build build --target energyhub firmware-sim bench_copy_rate
#              bench_naive_consumer bench_probe
# On a shared machine run it under the build lock so no compiler competes for the CPU:
#   flock /tmp/energyhub-build.lock bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd -P)
BUILD=${ENERGYHUB_BUILD_DIR:-build}
EH="$BUILD/hub/energyhub"
SIM="$BUILD/firmware-sim/firmware-sim"
COPY="$BUILD/bench/bench_copy_rate"
NAIVE="$BUILD/bench/bench_naive_consumer"
PROBE="$BUILD/bench/bench_probe"

QUICK=0
KEEP=0
SD_SECONDS=""
ONLY="limits,copy,hub,naive,latency,scale,tuned,sd,fleet"
while (($#)); do
    case $1 in
        --quick) QUICK=1 ;;
        --keep) KEEP=1 ;;
        --only) ONLY=$2; shift ;;
        --sd-seconds) SD_SECONDS=$2; shift ;;
        -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
wants() { [[ ",$ONLY," == *",$1,"* ]]; }

for bin in "$EH" "$SIM" "$COPY" "$NAIVE" "$PROBE"; do
    [[ -x $bin ]] || { echo "bench: $bin is missing; build it first (see --help)" >&2; exit 2; }
done

scripts/stack.sh start >/dev/null
eval "$(scripts/stack.sh env)"
RUN_ID=$$
# A topic prefix of our own: hubs of other people on the same broker never see the bench traffic.
TP="bench$RUN_ID"
SIM_TOPIC=(--topic-prefix "$TP")
WORK=$(mktemp -d /tmp/energyhub-bench.XXXXXX)
RESULTS="$WORK/results.txt"
: >"$RESULTS"
PIDS=()
PG_CLUSTERS=()  # run folders of the private PostgreSQL clusters (private_postgres)
SD_MNT="" DISK=""  # the folder sd_disk mounts its file systems in; the last one it mounted
SD_DISKS=()
SYSCTL_SAVED=()  # the kernel settings as they were before the Pi profile's (pi_sysctl)
cleanup() {
    ((${#SYSCTL_SAVED[@]})) && pi_sysctl_restore "${SYSCTL_SAVED[@]}"
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    for dir in "${PG_CLUSTERS[@]}"; do ENERGYHUB_RUN_DIR=$dir scripts/stack.sh clean >/dev/null 2>&1 || true; done
    for dir in "${SD_DISKS[@]}"; do umount "$dir" 2>/dev/null || umount -l "$dir" || true; done  # -l: a killed broker may not be gone yet
    [[ -z $SD_MNT ]] || rm -rf "$SD_MNT"
    [[ -z ${NATS_DIR:-} ]] || scripts/nats-cluster.sh stop
    wait 2>/dev/null || true
    # The hubs' retained states, statuses and discovery configs: the broker is shared, leave
    # nothing behind.
    for f in "$TP-state/#" "$TP-status/#" "$TP-ha/#"; do
        "$PROBE" --uri "$ENERGYHUB_MQTT_URI" --client-id "bench-clear-$RUN_ID" clear-retained --filter "$f" >/dev/null 2>&1 || true
    done
    [[ -f $WORK/databases ]] && while read -r db; do
        psql "$ENERGYHUB_PG_DSN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done <"$WORK/databases"
    if ((KEEP)); then echo "bench: work folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

TICKS=$(getconf CLK_TCK)
# HUB_N: readings per pass of the throughput cases. A full pass lasts seconds at the broker's rate,
# so the last batch's wait (flush_interval, 200 ms) and commit are a few percent of it, not a fifth
# as with 50,000 (under a second on a quiet machine). Q2_N: the QoS-2 cases (a thousand a second)
# and QoS 0.
if ((QUICK)); then
    HUB_N=40000 Q2_N=40000 NAIVE_N=5000 LAT_S=12 SCALE_DEVICES=20000 COPY_N=60000 SD_S=20 FLEET_N=10000
else
    HUB_N=200000 Q2_N=50000 NAIVE_N=20000 LAT_S=30 SCALE_DEVICES=100000 COPY_N=300000 SD_S=60 FLEET_N=30000
fi
[[ -n $SD_SECONDS ]] && SD_S=$SD_SECONDS

say() { printf 'bench: %s\n' "$*" >&2; }
record() { printf '%s=%s\n' "$1" "$2" >>"$RESULTS"; }  # key=value, read back by the table
get() { sed -n "s/^$1=//p" "$RESULTS" | tail -1; }
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2" | tail -1; }  # key=value out of a line
cpu_ms() { awk -v t="$TICKS" '{ printf "%.0f", ($14 + $15) * 1000 / t }' "/proc/$1/stat"; }
# pg_cpu_ms: the CPU time of every process of the shared PostgreSQL: the postmaster with the
# children it has reaped (ended backends, autovacuum workers), and its live children
pg_cpu_ms() {
    local pm
    pm=$(head -1 "${ENERGYHUB_RUN_DIR:-$REPO/.run}/postgres/data/postmaster.pid")
    # shellcheck disable=SC2046
    cat "/proc/$pm/stat" $(pgrep -P "$pm" | sed 's|.*|/proc/&/stat|') 2>/dev/null |
        awk -v t="$TICKS" 'NR == 1 { s = $16 + $17 } { s += $14 + $15 } END { printf "%.0f", s * 1000 / t }'
}
rss_mb() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
peak_mb() { awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
per_reading() { awk -v n="$1" -v b="$2" 'BEGIN { printf "%.0f", b / n }'; }  # per_reading READINGS BYTES
per_1000() { awk -v n="$1" -v c="$2" 'BEGIN { printf "%.1f", c * 1000 / n }'; }  # per_1000 READINGS CPU_MS
now_ns() { date +%s%N; }

# new_db NAME: an empty, migrated database; prints its DSN.
new_db() {
    local db="bench_$1_$RUN_ID" dsn
    dsn="${ENERGYHUB_PG_DSN%/*}/$db"
    psql "$ENERGYHUB_PG_DSN" -qc "CREATE DATABASE $db" >/dev/null
    echo "$db" >>"$WORK/databases"  # a file: new_db runs in a subshell, $(new_db ...)
    printf 'postgres: {dsn: "%s"}\nlog: {level: warn}\n' "$dsn" >"$WORK/$db.migrate.yaml"
    "$EH" migrate -c "$WORK/$db.migrate.yaml" >/dev/null
    echo "$dsn"
}

# register DSN PREFIX DEVICES: the users and devices firmware-sim --device-prefix PREFIX uses
# (device i is PREFIX-%05d, owned by PREFIX-user-(i % (DEVICES/5))), in two statements: the
# simulator's --register makes one transaction per device, too slow for 100k.
register() {
    local dsn=$1 prefix=$2 n=$3 users
    users=$((n / 5 > 0 ? n / 5 : 1))
    psql "$dsn" -qv ON_ERROR_STOP=1 >/dev/null <<SQL
INSERT INTO users (user_id, email) SELECT '$prefix-user-' || u, '$prefix-user-' || u || '@example.invalid'
  FROM generate_series(0, $users - 1) u;
INSERT INTO devices (device_id, user_id, type)
  SELECT '$prefix-' || lpad(i::text, 5, '0'), '$prefix-user-' || (i % $users),
         (ARRAY['fridge','standby','tv','kettle','standby','heatpump','fridge','tv','standby','kettle'])[i % 10 + 1]
  FROM generate_series(0, $n - 1) i;
SQL
}

# hub_config NAME DSN QOS FLUSH [EXTRA YAML]: writes $WORK/NAME.yaml. QOS "default" leaves the
# subscription QoS to the hub as installed (QoS 1 after its start-up check of Paho). The hub's state
# folder is STATE_DIR when set, else one in the work folder.
hub_config() {
    local name=$1 dsn=$2 qos=$3 flush=$4 extra=${5:-}
    local qos_key="qos: $qos, "
    [[ $qos == default ]] && qos_key=""
    cat >"$WORK/$name.yaml" <<YAML
mqtt: {uri: $ENERGYHUB_MQTT_URI, client_id: bench-$name-$RUN_ID, ${qos_key}receive_maximum: ${RMAX:-0}, topics: {reading: "$TP/+/reading", state_prefix: "$TP-state", alert_prefix: "$TP-alerts", deadletter: "$TP-deadletter", status_prefix: "$TP-status", discovery_prefix: "$TP-ha"}}
postgres: {dsn: "$dsn"}
http: {listen: "127.0.0.1:0", notifier_listen: "", insights_listen: ""}
hub: {state_dir: ${STATE_DIR:-$WORK/state-$name}, batch_size: 5000, flush_interval: $flush, cache_size: 200000}
log: {level: info}
$extra
YAML
}

HUB_PID=""
start_hub() {
    local name=$1
    "$EH" hub -c "$WORK/$name.yaml" >"$WORK/$name.log" 2>&1 &
    HUB_PID=$!
    PIDS+=("$HUB_PID")
    local deadline=$((SECONDS + 30))
    until grep -qs "subscribed to" "$WORK/$name.log"; do
        ((SECONDS < deadline)) || { say "hub $name did not subscribe"; tail "$WORK/$name.log" >&2; exit 1; }
        sleep 0.1
    done
}
stop_hub() {
    kill -TERM "$HUB_PID" 2>/dev/null || true
    wait "$HUB_PID" 2>/dev/null || true
    HUB_PID=""
    end_session "bench-$1-$RUN_ID"
}
# end_session CLIENT_ID: a clean-session connect deletes the hub's persistent session, so the shared
# broker does not queue messages for it after the bench.
end_session() { timeout 5 mosquitto_sub -p "${ENERGYHUB_MQTT_URI##*:}" -h 127.0.0.1 -i "$1" -t "$TP/none" -E >/dev/null 2>&1 || true; }
# sd_disk NAME: an ext4 file system on a loop device (a sparse file in the work folder), mounted
# noatime as Raspberry Pi OS mounts its root; sets DISK (its mount point). What its device is sent
# (disk_written) is what an SD card would be sent: after the page cache merged what it merges, with
# the journal and metadata. /proc/<pid>/io cannot tell that: on kernels with large folios its
# write_bytes charges a whole folio each time a write dirties one that fdatasync left clean (here,
# 16 kB writes each followed by fdatasync: 126 times the bytes the device was sent).
sd_disk() {
    if [[ -z $SD_MNT ]]; then
        SD_MNT=$(mktemp -d /tmp/energyhub-sd.XXXXXX)
        chmod 755 "$SD_MNT"  # PostgreSQL's account must reach its cluster
    fi
    DISK=$SD_MNT/$1
    truncate -s 2G "$WORK/$1.img"
    mkfs.ext4 -q -F "$WORK/$1.img"
    mkdir "$DISK"
    mount -o loop,noatime "$WORK/$1.img" "$DISK"
    SD_DISKS+=("$DISK")
    chmod 755 "$DISK"
}
# disk_written DIR: bytes the device of the file system at DIR has been sent, once the page cache
# has written back what it held for it (a sync rather than waiting for the kernel's own writeback:
# that wait would hold more of the broker's periodic saves, not fewer of anyone's writes)
disk_written() {
    sync -f "$1"
    awk '{ printf "%.0f\n", $7 * 512 }' "/sys/block/$(basename "$(findmnt -no SOURCE "$1")")/stat"
}
wal_since() { psql "$1" -tAc "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$2')"; }  # wal_since DSN LSN: bytes of WAL
# retained_count FILTER PREFIX: retained messages the broker holds under FILTER for the devices
# <PREFIX>-<index> (each case's simulator names its devices after the case)
retained_count() {
    timeout 10 mosquitto_sub -p "${ENERGYHUB_MQTT_URI##*:}" -h 127.0.0.1 -t "$1" --retained-only -W 3 -F '%t' 2>/dev/null |
        grep -c "/$2-[0-9]" || true
}
metrics_url() { sed -n 's|.*http listening on [^:]*:\([0-9]*\).*|http://127.0.0.1:\1/metrics|p' "$1" | tail -1; }  # metrics_url LOG
metric() {  # metric NAME LOG: a counter from the hub's /metrics
    curl -s "$(metrics_url "$2")" | awk -v m="$1" '$1 == m { printf "%.0f", $2 }'
}
# wait_stored LOG N: until the hub reports N stored readings (its /metrics; no load on PostgreSQL),
# or 10 s without one more. One poller on one connection: a curl, awk and sed forked every 25 ms
# took about a tenth of the machine from the hub it was timing.
wait_stored() {
    local out
    out=$("$PROBE" wait-metric --url "$(metrics_url "$1")" --name energyhub_readings_stored_total --at-least "$2" --stall 10) ||
        { say "stored stalls at $(field value "$out") of $2"; return 1; }
}
# idle_cpu_ms PID: waits until the hub has been idle for 1.4 s (at most one 10 ms tick of CPU per
# 200 ms: the pass's held states and announcements sent), at most 30 s, and prints its CPU time
# when the quiet began, so that what a pass caused is counted in it and not in the next, and the
# idle time is not
idle_cpu_ms() {
    local before i quiet=0 since
    for ((i = 0; i < 150 && quiet < 7; i++)); do
        before=$(cpu_ms "$1")
        sleep 0.2
        if (($(cpu_ms "$1") - before <= 10)); then
            ((quiet == 0)) && since=$before
            quiet=$((quiet + 1))
        else
            quiet=0
        fi
    done
    if ((quiet < 7)); then
        say "the hub was still busy 30 s after its pass"
        since=$(cpu_ms "$1")  # all of it counted
    fi
    echo "$since"
}

# publish PREFIX DEVICES PER_DEVICE LOG: firmware-sim at --rate 0 with QoS PUB_QOS (default 1), as
# SIM_PROCS processes side by side (default 1), each with its slice of the devices; SIM_EXTRA:
# further simulator flags (word-split on purpose), by default four connections on the simulator's
# event loop (--connections 4): its client-per-thread engine (Paho) tops out below the broker, so a
# "limit" measured with it was the publishers' limit. Records PREFIX_unconfirmed (publishes the
# simulators counted failed) and sets CONNECT_S, the seconds --connections took to connect.
CONNECT_S=0
publish() {
    local prefix=$1 devices=$2 per=$3 log=$4 procs=${SIM_PROCS:-1} p sims=() failed=0
    for ((p = 0; p < procs; p++)); do
        # shellcheck disable=SC2086
        "$SIM" --uri "$ENERGYHUB_MQTT_URI" --devices $((devices / procs)) --start-index $((p * devices / procs)) \
            --device-prefix "$prefix" --count "$per" --rate 0 --qos "${PUB_QOS:-1}" "${SIM_TOPIC[@]}" ${SIM_EXTRA:---connections 4} \
            >"$log-$p.out" 2>&1 &
        sims+=("$!")
    done
    for p in "${!sims[@]}"; do wait "${sims[$p]}" || say "$prefix: firmware-sim: $(tail -1 "$log-$p.out")"; done
    CONNECT_S=0
    for ((p = 0; p < procs; p++)); do
        local f up
        f=$(field failed "$(tail -1 "$log-$p.out")")
        failed=$((failed + ${f:-0}))
        up=$(sed -n 's/.* connections up in \([0-9.]*\) s$/\1/p' "$log-$p.out")
        [[ -n $up ]] && CONNECT_S=$(awk -v a="$CONNECT_S" -v b="$up" 'BEGIN { print (a > b ? a : b) }')
    done
    record "${prefix}_unconfirmed" "$failed"
}

# ------------------------------------------------------------------------------------------
# 1. Broker limits: firmware-sim --rate 0 to a no-op Paho subscriber.
# limit_case KEY SUBSCRIPTION_QOS PUBLISHER_QOS RECEIVE_MAX [N]: RECEIVE_MAX 0 is MQTT 3.1.1, else
# MQTT 5 with that Receive Maximum (as the hub). N readings, by default as many as a hub case, so
# the broker's backlog is the same.
limit_case() {
    local key=$1 sub_qos=$2 pub_qos=$3 rmax=$4 LIMIT_N=${5:-$HUB_N} out
    "$PROBE" --uri "$ENERGYHUB_MQTT_URI" --client-id "bench-$key-$RUN_ID" count \
        --topic "$TP/+/reading" --qos "$sub_qos" --count "$LIMIT_N" --idle 5 --receive-max "$rmax" >"$WORK/$key.out" &
    local probe=$!
    PIDS+=("$probe")
    until grep -qs subscribed "$WORK/$key.out"; do sleep 0.05; done
    local devices=${LIMIT_DEVICES:-1000}
    PUB_QOS=$pub_qos publish "$key" "$devices" $((LIMIT_N / devices)) "$WORK/$key-sim"
    wait "$probe" || true
    out=$(tail -1 "$WORK/$key.out")
    record "$key" "$(field rate_msgs_s "$out")"
    record "${key}_cpu" "$(field cpu_ms_per_1000 "$out")"
    (($(field received "$out") < LIMIT_N)) && record "${key}_stalled" "$(field received "$out") of $LIMIT_N"
    say "$key (subscription qos $sub_qos, publisher qos $pub_qos, receive max $rmax): $out"
}

# 2. PostgreSQL limit: ReadingStore::write with synthetic batches, no MQTT.
# copy_case NAME DEVICES: with 10,000 devices nearly every reading of a batch updates a row of the
# hourly rollup of its own (1,000: one in five).
copy_case() {
    local name=$1 dsn out pg0
    dsn=$(new_db "$name")
    pg0=$(pg_cpu_ms)
    out=$("$COPY" --dsn "$dsn" --readings "$COPY_N" --batch-size 5000 --devices "$2")
    record "${name}_rate" "$(field copy_rows_per_s "$out")"
    record "${name}_cpu" "$(field cpu_ms_per_1000 "$out")"
    record "${name}_pg_cpu" "$(per_1000 "$COPY_N" $(($(pg_cpu_ms) - pg0)))"
    say "$name: $out"
}

# 3. The hub end to end: firmware-sim publish (QoS 1) to committed rows.
# hub_case NAME QOS DEVICES PER_DEVICE [PASSES]: with PASSES 2 the second pass runs with warm caches.
hub_case() {
    local name=$1 qos=$2 devices=$3 per=$4 passes=${5:-1} dsn total cpu0 cpu1 t0 t1 pass base
    dsn=$(new_db "$name")
    register "$dsn" "$name" "$devices"
    local state_disk=""  # the state folder on a disk of its own, for the bytes the hub writes
    ((EUID == 0)) && sd_disk "$name-state" && state_disk=$DISK
    STATE_DIR=${state_disk:+$state_disk/state} hub_config "$name" "$dsn" "$qos" 200ms
    start_hub "$name"
    total=0
    for ((pass = 1; pass <= passes; pass++)); do
        total=$((total + devices * per))
        cpu0=$(cpu_ms "$HUB_PID")
        base=$(metric energyhub_readings_stored_total "$WORK/$name.log")
        local hub_w0 wal0 db0 pg0
        [[ -n $state_disk ]] && hub_w0=$(disk_written "$state_disk")
        wal0=$(psql "$dsn" -tAc "SELECT pg_current_wal_lsn()")
        db0=$(psql "$dsn" -tAc "SELECT pg_database_size(current_database())")
        pg0=$(pg_cpu_ms)
        t0=$(now_ns)
        publish "$name" "$devices" "$per" "$WORK/$name-sim$pass"
        local stalled=0 done_n
        wait_stored "$WORK/$name.log" "$total" || stalled=1
        t1=$(now_ns)
        # Connecting thousands of simulated devices is not the hub's time.
        t0=$(awk -v t="$t0" -v s="$CONNECT_S" 'BEGIN { printf "%.0f", t + s * 1e9 }')
        cpu1=$(idle_cpu_ms "$HUB_PID")
        # What was really stored in this pass (a stall ends the pass early; the table says so).
        done_n=$(($(metric energyhub_readings_stored_total "$WORK/$name.log") - base))
        local suffix=""
        ((passes > 1)) && suffix="_pass$pass"
        ((stalled)) && record "${name}${suffix}_stalled" "$done_n of $((devices * per))"
        record "${name}${suffix}_rate" "$(awk -v n="$done_n" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')"
        record "${name}${suffix}_cpu" "$(per_1000 "$done_n" $((cpu1 - cpu0)))"
        record "${name}${suffix}_pg_cpu" "$(per_1000 "$done_n" $(($(pg_cpu_ms) - pg0)))"
        # Bytes written per reading: by the hub (spool, session store), as PostgreSQL WAL, and the
        # database's growth (heap, indexes, rollup). The SD card's view of a reading.
        [[ -n $state_disk ]] && record "${name}${suffix}_hub_bytes" "$(per_reading "$done_n" $(($(disk_written "$state_disk") - hub_w0)))"
        record "${name}${suffix}_wal_bytes" "$(per_reading "$done_n" "$(wal_since "$dsn" "$wal0")")"
        record "${name}${suffix}_db_bytes" "$(per_reading "$done_n" $(($(psql "$dsn" -tAc "SELECT pg_database_size(current_database())") - db0)))"
        # Home Assistant configs retained once the pass's work is done: the devices it announced
        # (up to 10k devices: the broker sends 40,000 retained messages well inside the 3 s).
        ((devices <= 10000)) && record "${name}${suffix}_configs" "$(retained_count "$TP-ha/#" "$name")"
        say "$name pass $pass: $((devices * per)) readings in $(((t1 - t0) / 1000000)) ms, hub cpu $((cpu1 - cpu0)) ms"
    done
    # REST_S: seconds at rest first, so the RSS is the hub's at rest (it hands the memory a burst
    # freed back to the system every 10 s); the peak is the burst's
    sleep "${REST_S:-0}"
    record "${name}_rss" "$(rss_mb "$HUB_PID")"
    record "${name}_peak" "$(peak_mb "$HUB_PID")"
    record "${name}_cached" "$(metric energyhub_cached_devices "$WORK/$name.log")"
    record "${name}_stored" "$(psql "$dsn" -tAc "SELECT count(*) FROM readings")"
    stop_hub "$name"
}

# 4. The naive baseline: one INSERT per message, QoS 1.
naive_case() {
    local dsn out cpu t0 t1
    dsn=$(new_db naive)
    register "$dsn" naive 1000
    "$NAIVE" --uri "$ENERGYHUB_MQTT_URI" --dsn "$dsn" --count "$NAIVE_N" --qos 1 --topic "$TP/+/reading" --client-id "bench-naive-$RUN_ID" \
        --idle 20 >"$WORK/naive.out" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    until grep -qs subscribed "$WORK/naive.out"; do sleep 0.05; done
    t0=$(now_ns)
    "$SIM" --uri "$ENERGYHUB_MQTT_URI" --devices 1000 --device-prefix naive --count $((NAIVE_N / 1000)) --rate 0 \
        --qos 1 "${SIM_TOPIC[@]}" >/dev/null 2>&1 || true
    # Its CPU is read just before it exits: it stops by itself after NAIVE_N messages.
    cpu=0
    while kill -0 "$pid" 2>/dev/null; do
        cpu=$(cpu_ms "$pid" 2>/dev/null || echo "$cpu")
        grep -qs naive_received "$WORK/naive.out" && break
        sleep 0.01
    done
    wait "$pid" || true
    t1=$(now_ns)
    out=$(tail -1 "$WORK/naive.out")
    record naive_rate "$(awk -v n="$NAIVE_N" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')"
    record naive_cpu "$(per_1000 "$NAIVE_N" "$cpu")"
    record naive_stored "$(psql "$dsn" -tAc "SELECT count(*) FROM readings")"
    say "naive: $out"
}

# 5. Latency at a steady 5,000 readings/s (1,000 devices at 5/s) while 10 probe devices
#    alternate above and below their power_above threshold (for: 0s): every probe reading is an
#    alert transition. latency_case NAME QOS FLUSH_INTERVAL
latency_case() {
    local name=$1 qos=$2 flush=$3 dsn probes out cpu0 cpu1 t0 t1 start_ms
    dsn=$(new_db "$name")
    register "$dsn" "$name" 1000
    probes=$(seq -f "$name-probe-%g" 1 10 | paste -sd,)
    psql "$dsn" -qv ON_ERROR_STOP=1 -c "INSERT INTO devices (device_id, user_id, type)
        SELECT p, '$name-user-0', 'probe' FROM unnest(string_to_array('$probes', ',')) p" >/dev/null
    local devices_yaml
    devices_yaml=$(tr ',' '\n' <<<"$probes" | sed 's/.*/    &: {power_above: {watts: 1000, for: 0s, clear_below: 500}}/')
    hub_config "$name" "$dsn" "$qos" "$flush" "thresholds:
  defaults:
    power_above: {watts: 100000, for: 60s}
    daily_energy_above: {kwh: 100000}
    device_offline: {enabled: false}
    spike: {enabled: false}
  devices:
$devices_yaml"
    start_hub "$name"
    cpu0=$(cpu_ms "$HUB_PID")
    t0=$(now_ns)
    start_ms=$(($(date +%s%3N) + 3000))
    "$SIM" --uri "$ENERGYHUB_MQTT_URI" --devices 1000 --device-prefix "$name" --rate 5 --duration "$LAT_S" \
        --qos 1 "${SIM_TOPIC[@]}" >"$WORK/$name-sim.out" 2>&1 &
    local sim=$!
    PIDS+=("$sim")
    sleep 3  # steady state first
    out=$("$PROBE" --uri "$ENERGYHUB_MQTT_URI" --client-id "bench-probe-$name-$RUN_ID" alerts --devices "$probes" \
        --rate 20 --duration $((LAT_S - 6)) --watts 1000 --topic-prefix "$TP" --alert-filter "$TP-alerts/$name-user-0/#" --samples "$WORK/$name-alert-samples.tsv" || true)
    wait "$sim" || true
    t1=$(now_ns)
    cpu1=$(cpu_ms "$HUB_PID")
    record "${name}_alert_p50" "$(field p50_ms "$out")"
    record "${name}_alert_p99" "$(field p99_ms "$out")"
    record "${name}_alerts" "$(field alerts "$out")"
    record "${name}_rss" "$(rss_mb "$HUB_PID")"
    # readings/s the hub carried in the window, and its CPU per 1k readings/s (share of one core)
    local stored
    stored=$(metric energyhub_readings_stored_total "$WORK/$name.log")
    record "${name}_rate" "$(awk -v n="$stored" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')"
    record "${name}_core_per_1k" "$(awk -v c=$((cpu1 - cpu0)) -v ns=$((t1 - t0)) -v n="$stored" \
        'BEGIN { s = ns / 1e9; printf "%.1f", (c / 10 / s) / (n / s / 1000) }')"
    # publish -> row: received_at is the batch transaction's start (now()), the commit follows it
    read -r p50 p99 < <(psql "$dsn" -tA -F ' ' -c "
        SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
               round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1)
        FROM (SELECT extract(epoch FROM received_at - ts) * 1000 AS ms FROM readings
              WHERE ts > to_timestamp($start_ms / 1000.0)) x")
    record "${name}_row_p50" "$p50"
    record "${name}_row_p99" "$p99"
    say "$name (flush $flush): $out; row p50=$p50 p99=$p99"
    stop_hub "$name"
}

# 6. What a Raspberry Pi's SD card sees per reading at a home's pace (100 devices, one reading a
#    second each, for SD_S seconds), with the shipped defaults and with the Pi profile (config/pi:
#    the hub's drop-in and PostgreSQL's conf.d file, read from there): bytes written to storage by
#    the hub, by PostgreSQL (WAL and data pages: a checkpoint before and after the window, so it
#    holds one checkpoint's writes) and by the broker. Each of the three has a broker or a
#    PostgreSQL cluster of its own and writes to a file system of its own (sd_disk), so that what
#    each device is sent is its alone. sd_case NAME PI(0|1) OFFSET (of the servers' ports)
# shellcheck source=scripts/pi-profile.sh
. scripts/pi-profile.sh
# private_postgres RUN_DIR OFFSET: a PostgreSQL cluster of its own (scripts/stack.sh's, with its
# run folder RUN_DIR) on the shared server's port + OFFSET; sets PG_URI (its energyhub database).
# Removed by cleanup.
PG_URI=""
private_postgres() {
    local port=$((ENERGYHUB_PG_PORT + $2))
    PG_CLUSTERS+=("$1")
    ENERGYHUB_RUN_DIR=$1 ENERGYHUB_PG_PORT=$port scripts/stack.sh start-one postgres >/dev/null
    PG_URI="postgresql://energyhub@127.0.0.1:$port/energyhub"
}
# recycled_wal DSN: WAL segments ready for reuse, as a server that has run for a while has them. A
# checkpoint renames the segments it no longer needs as future ones (at least min_wal_size, 80 MB:
# five); a fresh cluster instead creates each next segment and writes its 16 MB of zeros first,
# which a window of half an hour (55 MB of WAL with the Pi profile) would count. Six segment
# switches, each after a commit; the window's opening checkpoint then recycles them.
recycled_wal() {
    local i
    for ((i = 0; i < 6; i++)); do psql "$1" -qAt -c "SELECT txid_current()" -c "SELECT pg_switch_wal()" >/dev/null; done
}
sd_case() {
    local name=$1 pi=$2 offset=$3 dsn flush=200ms state extra="" n hub_disk="" pg_disk broker_disk w0=() wal0 conf_d=""
    if ((pi)); then
        conf_d=$WORK/$name.conf.d
        mkdir -p "$conf_d"
        pi_mosquitto_conf_d "$conf_d"
    fi
    sd_disk "$name-broker" && broker_disk=$DISK
    BROKER_DIR=$broker_disk CONF_D=$conf_d private_broker "$name" "$offset"
    sd_disk "$name-pg" && pg_disk=$DISK
    private_postgres "$pg_disk/stack" "$offset"
    local ENERGYHUB_MQTT_URI=$BROKER_URI ENERGYHUB_PG_DSN=$PG_URI
    dsn=$(new_db "$name")
    register "$dsn" "$name" 100
    if ((pi)); then
        # the profile's state folder is in RAM (/run): no disk of its own
        flush=$(pi_env ENERGYHUB_FLUSH_INTERVAL)
        state=$(mktemp -d /dev/shm/energyhub-bench.XXXXXX)
        extra="hub: {state_dir: $state, spool_max: $(pi_env ENERGYHUB_SPOOL_MAX), batch_size: 5000, flush_interval: $flush, cache_size: 200000}"
        pi_postgres "$ENERGYHUB_PG_DSN" SET
        mapfile -t SYSCTL_SAVED < <(pi_sysctl)  # the kernel's writeback: the whole machine, for the window
    else
        sd_disk "$name-state" && hub_disk=$DISK
    fi
    STATE_DIR=${hub_disk:+$hub_disk/state} hub_config "$name" "$dsn" default "$flush"
    # the Pi profile's hub section replaces the bench's
    ((pi)) && sed -i "s|^hub: .*|$extra|" "$WORK/$name.yaml"
    start_hub "$name"
    recycled_wal "$dsn"
    psql "$dsn" -qc CHECKPOINT
    for d in "$pg_disk" "$broker_disk" $hub_disk; do w0+=("$(disk_written "$d")"); done
    wal0=$(psql "$dsn" -tAc "SELECT pg_current_wal_lsn()")
    "$SIM" --uri "$ENERGYHUB_MQTT_URI" --devices 100 --device-prefix "$name" --rate 1 --duration "$SD_S" \
        --qos 1 "${SIM_TOPIC[@]}" >"$WORK/$name-sim.out" 2>&1 || say "$name: firmware-sim: $(tail -1 "$WORK/$name-sim.out")"
    wait_stored "$WORK/$name.log" $((100 * SD_S)) || true
    n=$(metric energyhub_readings_stored_total "$WORK/$name.log")
    psql "$dsn" -qc CHECKPOINT
    record "${name}_n" "$n"
    record "${name}_pg" "$(per_reading "$n" $(($(disk_written "$pg_disk") - w0[0])))"
    record "${name}_broker" "$(per_reading "$n" $(($(disk_written "$broker_disk") - w0[1])))"
    record "${name}_hub" "$([[ -n $hub_disk ]] && per_reading "$n" $(($(disk_written "$hub_disk") - w0[2])) || echo 0)"
    # of PostgreSQL's: the WAL it generated
    record "${name}_wal" "$(per_reading "$n" "$(wal_since "$dsn" "$wal0")")"
    # the stored row: its data (pg_column_size of the row) and what the table and its indexes hold per row
    record "${name}_row" "$(psql "$dsn" -tAc "SELECT round(avg(pg_column_size(r.*))) FROM readings r")"
    record "${name}_stored" "$(psql "$dsn" -tAc "SELECT round(sum(pg_total_relation_size(c.oid)) / $n) FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'readings'::regclass")"
    stop_hub "$name"
    if ((pi)); then
        rm -rf "$state"
        pi_sysctl_restore "${SYSCTL_SAVED[@]}"
        SYSCTL_SAVED=()
    fi
    say "$name: $n readings; bytes per reading sent to each disk: hub $(get "${name}_hub"), PostgreSQL $(get "${name}_pg") (WAL generated $(get "${name}_wal")), broker $(get "${name}_broker")"
}

say "work folder $WORK"
if wants limits; then
    limit_case limit_q0 0 0 0 "$Q2_N"  # of 200,000 at once, the broker dropped a third
    limit_case limit_q1 1 1 0
    limit_case limit_q2 2 1 0 "$Q2_N"
    limit_case limit_q2v5 2 1 256 "$Q2_N"
    # 1,000 and 10,000 publisher connections (one simulator, one event loop), a device each.
    SIM_EXTRA="--connections 1000" limit_case limit_q1conns 1 1 0
    LIMIT_DEVICES=10000 SIM_EXTRA="--connections 10000 --connect-rate 5000" limit_case limit_q1conns10k 1 1 0
fi
wants copy && copy_case copy 1000 && copy_case copy10k 10000
if wants hub; then
    # Two passes, as with 10k and 100k devices: the first meets each device (a lookup, its
    # availability and discovery configs), the second is what every later reading costs.
    hub_case hub1k default 1000 $((HUB_N / 1000)) 2
    hub_case hub1kq2 2 1000 $((Q2_N / 1000))
    # 10k devices: the first pass meets each device for the first time (lookups, announcements),
    # the second is the steady state.
    hub_case hub10k default 10000 $((HUB_N / 10000)) 2
    RMAX=256 hub_case hub1kv5 2 1000 $((Q2_N / 1000))
    # Many publisher connections: every simulated device its own MQTT client; two passes again
    # (a new simulator, so new connections, in each).
    SIM_EXTRA="--connections 1000" hub_case hub1kconns default 1000 $((HUB_N / 1000)) 2
    SIM_EXTRA="--connections 10000 --connect-rate 5000" hub_case hub10kconns default 10000 $((HUB_N / 10000)) 2
fi
# 100k devices, one reading each per pass: the first pass finds every cache cold, the second warm.
wants scale && REST_S=11 hub_case hub100k default "$SCALE_DEVICES" 1 2

# private_broker NAME OFFSET [SED_EXPR]: a Mosquitto of its own from config/mosquitto.conf (edited
# by SED_EXPR; with CONF_D set, then the drop-ins of that folder), on the shared broker's port +
# OFFSET, with its own persistence, log and pid file (in BROKER_DIR, by default the work folder's
# NAME); sets BROKER_URI and BROKER_PID.
BROKER_URI="" BROKER_PID=""
private_broker() {
    local name=$1 port=$((${ENERGYHUB_MQTT_URI##*:} + $2)) edit=${3:-} dir=${BROKER_DIR:-$WORK/$1}
    sed -e "s|@PORT@|$port|" -e "s|@TLS_PORT@|$((port + 1))|" -e "s|@CERT_PORT@|$((port + 2))|" \
        -e "s|@TLS_DIR@|$ENERGYHUB_TLS_DIR|g" -e "s|@USER@|$(id -un)|" -e "s|@RUN_DIR@|$dir|g" \
        ${edit:+-e "$edit"} config/mosquitto.conf >"$WORK/$name.conf"
    [[ -n ${CONF_D:-} ]] && echo "include_dir $CONF_D" >>"$WORK/$name.conf"
    mkdir -p "$dir/mosquitto"
    mosquitto -c "$WORK/$name.conf" -d >"$WORK/$name.out" 2>&1
    local deadline=$((SECONDS + 10))
    until [[ -s "$dir/mosquitto.pid" ]]; do
        ((SECONDS < deadline)) || { say "broker $name did not start: $(tail -3 "$WORK/$name.out")"; return 1; }
        sleep 0.1
    done
    BROKER_PID=$(cat "$dir/mosquitto.pid")
    PIDS+=("$BROKER_PID")
    BROKER_URI="tcp://127.0.0.1:$port"
}
# A broker tuned for throughput: the same configuration with a deeper in-flight window per client
# (max_inflight_messages 20 → 1000); the limit and the hub at QoS 1 again.
if wants tuned; then
    private_broker tuned 77 's|^max_inflight_messages .*|max_inflight_messages 1000|'
    ENERGYHUB_MQTT_URI=$BROKER_URI limit_case limit_q1t 1 1 0
    ENERGYHUB_MQTT_URI=$BROKER_URI hub_case hub1kt default 1000 $((HUB_N / 1000))
fi
wants naive && naive_case
# The SD cases each on a broker and a PostgreSQL of their own, so that their writes are theirs
# alone: the shipped settings, and with the Pi profile's drop-ins.
if wants sd; then
    if ((EUID == 0)); then
        sd_case sd_default 0 88
        sd_case sd_pi 1 91
    else
        say "sd: skipped: its file systems are loop-mounted, which takes root"
    fi
fi
# A fleet on a NATS cluster (docs/scale-out.md): n hubs as installed, each on its partition of the
# cluster's device mapping (mqtt.broker nats, hub.partition i/n, all three nodes, each preferring
# another), against the cluster's own limit: a no-op QoS-1 subscriber to every partition. For
# n = 1, 2, 3, on a fresh 3-node cluster each; firmware-sim publishes into all three nodes.
fleet_node() { echo "tcp://127.0.0.1:$((NATS_BASE_PORT + 10 + $1))"; }
fleet_config() {  # fleet_config NAME DSN I N
    local i=$3 uris
    uris="$(fleet_node $((i % 3 + 1))),$(fleet_node $(((i + 1) % 3 + 1))),$(fleet_node $(((i + 2) % 3 + 1)))"
    cat >"$WORK/$1.yaml" <<YAML
mqtt: {broker: nats, uri: "$uris", client_id: bench-$1-$RUN_ID, topics: {reading: "$TP/+/reading", state_prefix: "$TP-state", alert_prefix: "$TP-alerts", deadletter: "$TP-deadletter", status_prefix: "$TP-status", discovery_prefix: ""}}
postgres: {dsn: "$2"}
http: {listen: "127.0.0.1:0", notifier_listen: "", insights_listen: ""}
hub: {state_dir: $WORK/state-$1, batch_size: 5000, flush_interval: 200ms, cache_size: 200000, partition: $i/$4}
log: {level: info}
YAML
}
# fleet_publish PREFIX PER_DEVICE LOG: 1,000 devices at --rate 0, QoS 1, a third on each node
# (devices connect to any node of a fleet).
fleet_publish() {
    local k sims=()
    for k in 1 2 3; do
        "$SIM" --uri "$(fleet_node "$k")" --devices 333 --start-index $(((k - 1) * 333)) --device-prefix "$1" --count "$2" \
            --rate 0 --qos 1 "${SIM_TOPIC[@]}" --threads 2 >"$3-$k.out" 2>&1 &
        sims+=("$!")
    done
    for k in "${!sims[@]}"; do wait "${sims[$k]}" || say "$1: firmware-sim: $(tail -1 "$3-$((k + 1)).out")"; done
}
fleet_case() {
    local n i dsn out t0 t1 cpu0 cpu1 stored pids=() per=$((FLEET_N / 999))
    export NATS_BASE_PORT=$((${ENERGYHUB_MQTT_URI##*:} + 100)) NATS_DIR="$WORK/nats" NATS_MAPPINGS="$WORK/nats-mappings.conf"
    for n in 1 2 3; do
        dsn=$(new_db "fleet$n")
        register "$dsn" "fleet$n" 1000
        for ((i = 0; i < n; i++)); do fleet_config "fleet$n-$i" "$dsn" "$i" "$n"; done
        "$EH" nats-mappings -c "$WORK/fleet$n-0.yaml" >"$NATS_MAPPINGS"
        rm -rf "$NATS_DIR"
        scripts/nats-cluster.sh start >/dev/null
        # A warm-up first: the cluster's JetStream streams and their leaders are made on first use.
        fleet_publish "fleet$n" 2 "$WORK/fleetwarm$n-sim"
        "$PROBE" --uri "$(fleet_node 1)" --client-id "bench-fleetlimit$n-$RUN_ID" count --topic "hub/+/$TP/+/reading" \
            --qos 1 --count $((per * 999)) --idle 10 --receive-max 0 >"$WORK/fleetlimit$n.out" &
        local probe=$!
        PIDS+=("$probe")
        until grep -qs subscribed "$WORK/fleetlimit$n.out"; do sleep 0.05; done
        fleet_publish "fleet$n" "$per" "$WORK/fleetlimit$n-sim"
        wait "$probe" || true
        out=$(tail -1 "$WORK/fleetlimit$n.out")
        record "fleet${n}_limit" "$(field rate_msgs_s "$out")"
        say "fleet of $n: the cluster's limit: $out"

        pids=()
        for ((i = 0; i < n; i++)); do start_hub "fleet$n-$i"; pids+=("$HUB_PID"); done
        cpu0=0
        for i in "${pids[@]}"; do cpu0=$((cpu0 + $(cpu_ms "$i"))); done
        t0=$(now_ns)
        local base=0
        for ((i = 0; i < n; i++)); do
            out=$(metric energyhub_readings_stored_total "$WORK/fleet$n-$i.log")
            base=$((base + ${out:-0}))
        done
        fleet_publish "fleet$n" "$per" "$WORK/fleet$n-sim"
        local deadline=$((SECONDS + 120))
        for (( ; ; )); do
            stored=0
            for ((i = 0; i < n; i++)); do
                out=$(metric energyhub_readings_stored_total "$WORK/fleet$n-$i.log")
                stored=$((stored + ${out:-0}))
            done
            ((stored - base >= per * 999 || SECONDS > deadline)) && break
            sleep 0.05
        done
        t1=$(now_ns)
        cpu1=0
        for i in "${pids[@]}"; do cpu1=$((cpu1 + $(cpu_ms "$i"))); done
        stored=$((stored - base))
        ((stored >= per * 999)) || record "fleet${n}_stalled" "$stored of $((per * 999))"
        record "fleet${n}_rate" "$(awk -v n="$stored" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')"
        record "fleet${n}_cpu" "$(per_1000 "$stored" $((cpu1 - cpu0)))"
        say "fleet of $n hubs: $stored readings in $(((t1 - t0) / 1000000)) ms, hubs' cpu $((cpu1 - cpu0)) ms"
        for i in "${pids[@]}"; do kill -TERM "$i" 2>/dev/null || true; done
        for i in "${pids[@]}"; do wait "$i" 2>/dev/null || true; done
        scripts/nats-cluster.sh stop
    done
}
wants fleet && fleet_case

if wants latency; then
    latency_case lat200 default 200ms
    RMAX=256 latency_case lat20v5 2 20ms
    latency_case lat20 default 20ms
fi

# ------------------------------------------------------------------------------------------
# The table: every figure also as a ratio to the limits of this run.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }
L1=$(get limit_q1)
L2=$(get limit_q2)
LC=$(get copy_rate)
row() { printf '| %-52s | %9s | %7s | %7s | %9s |\n' "$@"; }
{
    echo
    echo "limits (same run, $HUB_N readings from 1,000 devices at --rate 0 unless noted, $Q2_N at QoS 2): broker QoS 0 $(get limit_q0) msg/s,"
    echo "QoS 1 ${L1:-?} msg/s, QoS 2 (as the hub) ${L2:-?} msg/s; PostgreSQL COPY path ${LC:-?} rows/s."
    echo
    row "case" "rdg/s" "÷QoS1" "÷COPY" "CPU ms/1k"  # CPU of the consumer process
    row "----" "----:" "----:" "----:" "----:"
    for c in limit_q0:"broker → no-op subscriber, QoS 0" limit_q1:"broker → no-op subscriber, QoS 1" \
        limit_q2:"broker → no-op subscriber, QoS 2 (as the hub)" limit_q2v5:"same, MQTT 5 with Receive Maximum 256" \
        limit_q1conns:"broker → no-op subscriber, QoS 1, 1,000 publisher connections" \
        limit_q1conns10k:"broker → no-op subscriber, QoS 1, 10,000 publisher connections" copy:"COPY path, no MQTT (5,000/batch)" \
        copy10k:"same, 10,000 devices"; do
        k=${c%%:*}
        if [[ $k == copy* ]]; then r=$(get "${k}_rate") cpu=$(get "${k}_cpu"); else r=$(get "$k") cpu=$(get "${k}_cpu"); fi
        [[ -n $r ]] && row "${c#*:}" "$r" "$(ratio "$r" "$L1")" "$(ratio "$r" "$LC")" "$cpu"
        [[ -n $(get "${k}_stalled") ]] && row "  ↳ stalled: received only $(get "${k}_stalled")" "" "" "" ""
    done
    for c in hub1k_pass1:"hub as installed (QoS 1 by default), 1k devices, met for the first time" \
        hub1k_pass2:"hub as installed, 1k devices, steady state (second pass)" hub1kq2:"hub, QoS 2 (the fallback), 1k devices" \
        hub10k_pass1:"hub as installed, 10k devices, cold caches" hub10k_pass2:"hub as installed, 10k devices, warm caches" hub1kv5:"hub, QoS 2, MQTT 5 receive_maximum 256, 1k devices" \
        hub1kconns_pass1:"hub as installed, 1k devices each its own connection, first meeting" \
        hub1kconns_pass2:"same, steady state" \
        hub10kconns_pass1:"hub as installed, 10k devices each its own connection, first meeting" \
        hub10kconns_pass2:"same, steady state" \
        hub100k_pass1:"hub as installed, ${SCALE_DEVICES} devices, cold caches" \
        hub100k_pass2:"hub as installed, ${SCALE_DEVICES} devices, warm caches" naive:"naive: one INSERT per message, QoS 1" \
        limit_q1t:"tuned broker (inflight 1000) → no-op subscriber, QoS 1" hub1kt:"tuned broker: hub as installed, 1k devices"; do
        k=${c%%:*}
        r=$(get "${k}_rate")
        [[ $k == limit_q1t ]] && r=$(get limit_q1t)
        [[ -n $r ]] && row "${c#*:}" "$r" "$(ratio "$r" "$L1")" "$(ratio "$r" "$LC")" "$(get "${k}_cpu")"
        [[ -n $(get "${k}_stalled") ]] && row "  ↳ stalled: stored only $(get "${k}_stalled")" "" "" "" ""
    done
    echo
    for k in lat200 lat20v5 lat20; do
        [[ -n $(get "${k}_alert_p50") ]] || continue
        case $k in
            lat200) how="hub as installed (QoS 1, flush_interval 200ms)" ;;
            lat20v5) how="hub QoS 2 (MQTT 5, receive_maximum 256), flush_interval 20ms" ;;
            lat20) how="hub as installed but flush_interval 20ms" ;;
        esac
        echo "steady 5,000 readings/s offered, $how: publish→alert p50 $(get "${k}_alert_p50") ms, p99 $(get "${k}_alert_p99") ms" \
            "($(get "${k}_alerts") alerts); publish→row (transaction start) p50 $(get "${k}_row_p50") ms, p99 $(get "${k}_row_p99") ms;" \
            "hub $(get "${k}_rate") readings/s, $(get "${k}_core_per_1k")% of a core per 1k readings/s, RSS $(get "${k}_rss") MB"
    done
    [[ -n $(get limit_q1t) && -n $(get hub1kt_rate) ]] &&
        echo "tuned broker: its QoS-1 limit is $(ratio "$(get limit_q1t)" "$L1")× the default broker's; the hub as installed reaches $(ratio "$(get hub1kt_rate)" "$(get limit_q1t)")× of it"
    [[ -n $(get limit_q1conns) && -n $(get hub1kconns_pass2_rate) ]] &&
        echo "1,000 publisher connections: the broker's QoS-1 limit is $(ratio "$(get limit_q1conns)" "$L1")× that with 4; the hub reaches $(ratio "$(get hub1kconns_pass1_rate)" "$(get limit_q1conns)")× of it meeting the devices, $(ratio "$(get hub1kconns_pass2_rate)" "$(get limit_q1conns)")× in the steady state; unconfirmed publishes: $(get limit_q1conns_unconfirmed) and $(get hub1kconns_unconfirmed) (the hub's last pass)"
    [[ -n $(get limit_q1conns10k) && -n $(get hub10kconns_pass2_rate) ]] &&
        echo "10,000 publisher connections: the broker's QoS-1 limit is $(ratio "$(get limit_q1conns10k)" "$L1")× that with 4; the hub reaches $(ratio "$(get hub10kconns_pass1_rate)" "$(get limit_q1conns10k)")× of it meeting the devices, $(ratio "$(get hub10kconns_pass2_rate)" "$(get limit_q1conns10k)")× in the steady state; unconfirmed publishes: $(get limit_q1conns10k_unconfirmed) and $(get hub10kconns_unconfirmed) (the hub's last pass)"
    [[ -n $(get hub1k_pass2_wal_bytes) ]] &&
        echo "bytes written per reading, hub as installed (1k devices, steady state): hub $(get hub1k_pass2_hub_bytes) (sent to its state folder's disk; none without root), PostgreSQL WAL $(get hub1k_pass2_wal_bytes), database growth $(get hub1k_pass2_db_bytes); at QoS 2: hub $(get hub1kq2_hub_bytes), WAL $(get hub1kq2_wal_bytes)"
    for k in sd_default sd_pi; do
        [[ -n $(get "${k}_n") ]] || continue
        how="shipped defaults"
        [[ $k == sd_pi ]] && how="Pi profile (config/pi)"
        echo "SD writes per reading at a home's pace (100 devices × 1/s, $(get "${k}_n") readings), $how, bytes sent to each one's disk: hub $(get "${k}_hub"), PostgreSQL $(get "${k}_pg")" \
            "(WAL generated $(get "${k}_wal")), broker $(get "${k}_broker"); hub + PostgreSQL $(($(get "${k}_hub") + $(get "${k}_pg"))) = $(ratio $(($(get "${k}_hub") + $(get "${k}_pg"))) "$(get "${k}_stored")")×" \
            "the stored row ($(get "${k}_stored") bytes with its index entries; $(get "${k}_row") bytes of row data)"
    done
    for n in 1 2 3; do
        [[ -n $(get "fleet${n}_rate") ]] || continue
        echo "fleet on a 3-node NATS cluster, $n hub(s) as installed, one per partition (~$FLEET_N readings from 999 devices, a third into each node):" \
            "$(get "fleet${n}_rate") readings/s = $(ratio "$(get "fleet${n}_rate")" "$(get "fleet${n}_limit")")× the cluster's limit" \
            "($(get "fleet${n}_limit") msg/s to one no-op QoS-1 subscriber of every partition), $(ratio "$(get "fleet${n}_rate")" "$(get fleet1_rate)")× one hub's;" \
            "hubs' CPU $(get "fleet${n}_cpu") ms per 1,000${L1:+; that limit is $(ratio "$(get "fleet${n}_limit")" "$L1")× the broker QoS-1 limit}"
        [[ -n $(get "fleet${n}_stalled") ]] && echo "  ↳ stalled: stored only $(get "fleet${n}_stalled")"
    done
    for k in hub1k_pass1:"met for the first time" hub1k_pass2:"steady state"; do
        [[ -n $(get "${k%%:*}_rate") ]] && echo "hub as installed (1k devices, ${k#*:}) ÷ broker QoS-1 limit: $(ratio "$(get "${k%%:*}_rate")" "$L1"); CPU per reading ÷ the no-op QoS-1 subscriber's: $(ratio "$(get "${k%%:*}_cpu")" "$(get limit_q1_cpu)")"
    done
    [[ -n $(get hub1k_pass2_pg_cpu) ]] &&
        echo "PostgreSQL's CPU (all its processes) ms per 1,000 readings: hub as installed, 1k devices steady $(get hub1k_pass2_pg_cpu) (the hub's own $(get hub1k_pass2_cpu)), 10k warm $(get hub10k_pass2_pg_cpu)${LC:+; COPY path $(get copy_pg_cpu), 10k devices $(get copy10k_pg_cpu)}"
    [[ -n $(get hub10k_pass2_configs) ]] &&
        echo "hub as installed, 10k devices: Home Assistant configs retained after the pass meeting them $(get hub10k_pass1_configs), after the next $(get hub10k_pass2_configs) (4 a device: power, energy, voltage, current)"
    # The hub unit's memory limit against the peak RSS measured here (the Pi profile's spool, in RAM,
    # counts against it too: docs/raspberry-pi.md).
    max=$(sed -n 's/^MemoryMax=//p' systemd/energyhub-hub.service.in)
    peaks=""
    for k in hub1k:1k hub10k:10k hub100k:${SCALE_DEVICES}; do
        [[ -n $(get "${k%%:*}_peak") ]] && peaks+="${peaks:+, }${k#*:} devices $(get "${k%%:*}_peak") MB"
    done
    [[ -n $peaks ]] && echo "hub peak RSS against the unit's MemoryMax=$max: $peaks"
    [[ -n $(get hub100k_rss) ]] && echo "hub with $(get hub100k_cached) devices in its cache: RSS at rest $(get hub100k_rss) MB (peak $(get hub100k_peak) MB); stored $(get hub100k_stored) rows"
    [[ -n $(get naive_rate) && -n $(get hub1k_pass2_rate) ]] && echo "hub as installed (1k devices, steady state) ÷ naive: $(ratio "$(get hub1k_pass2_rate)" "$(get naive_rate)")× the rate; naive stored $(get naive_stored) of $NAIVE_N"
    true  # a case left out (--only) is no failure
} | tee "$WORK/table.md"
