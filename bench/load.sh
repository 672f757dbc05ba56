#!/usr/bin/env bash
# The load benchmark of issue 8: our server against the floor, one command.
#
#     bench/load.sh
#
# It installs wrk if missing (apt-get), builds the benchmark binaries in
# release mode, makes an RSA key, its JWK set and RS256 tokens
# (examples/bench_kit.rs), serves the JWK set on loopback (python3
# http.server), and then, one at a time, starts
#   (a) the floor, examples/bench_floor.rs: plain actix-web + serde_json +
#       jsonwebtoken, key built once at start, and
#   (b) ours, examples/bench_server.rs: #[mcp_server] with CustomProvider
#       reading that JWK set,
# each with one actix worker pinned to CPU $BENCH_SERVER_CPU while wrk runs
# on CPU $BENCH_LOAD_CPU. Before loading a server it checks that a good
# request gets the expected reply and a bad token gets 401; any non-2xx
# answer under load fails the run. Per scenario it reports requests/s,
# p50/p99 latency, server CPU time per request (utime+stime from
# /proc/PID/stat around the measured run) and peak RSS (VmHWM); then the
# ours/floor ratios against the issue's targets, 10,000 idle sessions and
# the session cap, a JWK set outage, and (with perf) profiles of the
# scoped-tool stateless scenario with the verified-token cache on and off,
# and of the floor.
#
# Settings (environment): BENCH_WARMUP (s, default 15), BENCH_DURATION (s,
# default 10), BENCH_THREADS (2), BENCH_CONNECTIONS (32), BENCH_SERVER_CPU
# (1), BENCH_LOAD_CPU (0), BENCH_IDLE_SESSIONS (10000; 0 skips),
# BENCH_OUTAGE (1; 0 skips), BENCH_PERF (1; 0 skips), BENCH_PAIRED (1: a
# floor run between each two of ours; 0: first and last only), BENCH_PORT (3101),
# BENCH_JWKS_PORT (3199), BENCH_OUT (default target/bench-load/<time>).
# BENCH_PERF_RUNS (profiles to take, default "on off floor"; "observed"
# profiles the cache-on server with tracing, metrics and audit lines,
# "bare" the floor without OAuth, "noauth" ours without OAuth),
# BENCH_REDIS (1; 0 skips the Redis-backed session scenarios),
# BENCH_REDIS_PORT (3198), BENCH_SCENARIOS (space-separated names of ours
# to run; default all), BENCH_BARE (1; 0 skips the runs against the bare
# floor: the floor without OAuth, ours without OAuth, ours authenticated),
# BENCH_SESSION_VERSION (2025-11-25: the revision session scenarios
# negotiate; 2025-06-18 as older clients do).
# A quick shake-out: BENCH_WARMUP=2 BENCH_DURATION=3 bench/load.sh
#
# The Redis-backed scenarios run a redis-server (Debian's, installed if
# missing) pinned to the load CPU, so the server's CPU figure is its own;
# they also report Redis commands and Redis CPU per request (INFO
# commandstats and INFO cpu around the measured run).

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

WARMUP=${BENCH_WARMUP:-15}
DURATION=${BENCH_DURATION:-10}
THREADS=${BENCH_THREADS:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
SERVER_CPU=${BENCH_SERVER_CPU:-1}
LOAD_CPU=${BENCH_LOAD_CPU:-0}
IDLE_SESSIONS=${BENCH_IDLE_SESSIONS:-10000}
OUTAGE=${BENCH_OUTAGE:-1}
PERF=${BENCH_PERF:-1}
PAIRED=${BENCH_PAIRED:-1}
BARE=${BENCH_BARE:-1}
# The revision the session scenarios negotiate (and then send in
# MCP-Protocol-Version): 2025-11-25, or 2025-06-18 as older clients do.
SESSION_VERSION=${BENCH_SESSION_VERSION:-2025-11-25}
PORT=${BENCH_PORT:-3101}
REDIS=${BENCH_REDIS:-1}
REDIS_PORT=${BENCH_REDIS_PORT:-3198}
ONLY=${BENCH_SCENARIOS:-}
JWKS_PORT=${BENCH_JWKS_PORT:-3199}
OUT=${BENCH_OUT:-$ROOT/target/bench-load/$(date +%Y%m%d-%H%M%S)}

ISSUER=https://issuer.bench
URL=http://127.0.0.1:$PORT/mcp
JWKS_URL=http://127.0.0.1:$JWKS_PORT/jwks.json
BIN=$ROOT/target/release/examples
CLK_TCK=$(getconf CLK_TCK)
RESULTS=$OUT/results.tsv

fail() {
    echo "FAILED: $*" >&2
    exit 1
}

say() {
    echo "== $*" >&2
}

# --- tools and binaries ------------------------------------------------------

if ! command -v wrk >/dev/null; then
    say "installing wrk"
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
if [ "$REDIS" != 0 ] && ! command -v redis-server >/dev/null; then
    say "installing redis-server"
    apt-get install -y redis-server >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y redis-server >/dev/null; }
fi
for tool in wrk curl python3 taskset; do
    command -v "$tool" >/dev/null || fail "$tool is required"
done

say "building the benchmark binaries (release)"
# Only the benchmark's binaries: the other examples are not needed here.
cargo build --release --example bench_kit --example bench_floor --example bench_server

mkdir -p "$OUT"
: >"$RESULTS"
say "results in $OUT"
"$BIN/bench_kit" "$OUT/kit" "$ISSUER" "$URL" >/dev/null
GOOD=$(cat "$OUT/kit/good.jwt")
BAD=$(cat "$OUT/kit/bad.jwt")
NOSCOPE=$(cat "$OUT/kit/noscope.jwt")
UNKNOWN_KID=$(cat "$OUT/kit/unknown_kid.jwt")

# --- processes ---------------------------------------------------------------

JWKS_PID=""
SERVER_PID=""
REDIS_PID=""

cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    [ -n "$JWKS_PID" ] && kill "$JWKS_PID" 2>/dev/null || true
    [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null || true
}
trap cleanup EXIT

start_jwks() {
    python3 -m http.server "$JWKS_PORT" --bind 127.0.0.1 --directory "$OUT/kit/jwks" \
        >>"$OUT/jwks.log" 2>&1 &
    JWKS_PID=$!
    for _ in $(seq 50); do
        curl -sf "$JWKS_URL" >/dev/null && return 0
        sleep 0.1
    done
    fail "the JWK set server did not start (see $OUT/jwks.log)"
}

stop_jwks() {
    kill "$JWKS_PID" 2>/dev/null || true
    wait "$JWKS_PID" 2>/dev/null || true
    JWKS_PID=""
}

# A Redis for the Redis-backed scenarios, on the load CPU, persisting nothing.
start_redis() {
    taskset -c "$LOAD_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
        --appendonly no >"$OUT/redis.log" 2>&1 &
    REDIS_PID=$!
    for _ in $(seq 50); do
        [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && return 0
        sleep 0.1
    done
    fail "redis-server did not start (see $OUT/redis.log)"
}

stop_redis() {
    kill "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
    REDIS_PID=""
}

# Redis's command count and CPU seconds so far: "calls cpu".
redis_totals() {
    redis-cli -p "$REDIS_PORT" info commandstats | awk -F'[:=,]' '/^cmdstat_/ { n += $3 } END { printf "%d ", n }'
    redis-cli -p "$REDIS_PORT" info cpu | awk -F: '/^used_cpu_(user|sys):/ { s += $2 } END { printf "%.6f\n", s }'
}

# Redis commands per request by name, over the measured run, e.g. "getex=1.00 pexpire=1.00".
redis_command_mix() {
    redis-cli -p "$REDIS_PORT" info commandstats | awk -F'[:=,]' -v n="$1" '
        /^cmdstat_/ { name = substr($1, 9); if ($3 / n >= 0.01) printf "%s%s=%.2f", sep, name, $3 / n; sep = " " }'
}

# start_server NAME BINARY [VAR=VALUE...]: one process pinned to SERVER_CPU.
start_server() {
    local name=$1 binary=$2
    shift 2
    taskset -c "$SERVER_CPU" env PORT="$PORT" BENCH_ISSUER="$ISSUER" BENCH_JWKS_URL="$JWKS_URL" \
        BENCH_AUDIENCE="$URL" BENCH_WORKERS=1 "$@" "$BIN/$binary" >"$OUT/$name.server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$PORT/" && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || fail "$binary exited (see $OUT/$name.server.log)"
        sleep 0.1
    done
    fail "$binary did not start (see $OUT/$name.server.log)"
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# utime+stime of the server, in clock ticks. The command name may hold
# spaces, so fields are counted after its closing parenthesis.
cpu_ticks() {
    sed 's/.*) //' "/proc/$SERVER_PID/stat" | awk '{ print $12 + $13 }'
}

proc_kib() {
    awk -v key="$1:" '$1 == key { print $2 }' "/proc/$SERVER_PID/status"
}

# --- requests ----------------------------------------------------------------

call_body() {
    printf '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"%s","arguments":{"text":"hello"}}}' "$1"
}

call_body_2026() {
    printf '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"%s","arguments":{"text":"hello"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}' "$1"
}

EXPECTED='{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hello"}]}}'

# The request a scenario sends, as wrk's Lua script reads it.
BENCH_BODY=""
BENCH_PROTOCOL=""
BENCH_SESSION=""
BENCH_MCP_METHOD=""
BENCH_MCP_NAME=""
# on, or off for the servers without OAuth (no Authorization header sent).
BENCH_AUTH=on

# post TOKEN -> "STATUS BODY" of the scenario's request with that token.
post() {
    local args=(-s -w '\n%{http_code}' -X POST "$URL" -H 'content-type: application/json'
        -H 'accept: application/json, text/event-stream' --data-binary "$BENCH_BODY")
    [ -n "$1" ] && args+=(-H "authorization: Bearer $1")
    [ -n "$BENCH_PROTOCOL" ] && args+=(-H "mcp-protocol-version: $BENCH_PROTOCOL")
    [ -n "$BENCH_SESSION" ] && args+=(-H "mcp-session-id: $BENCH_SESSION")
    [ -n "$BENCH_MCP_METHOD" ] && args+=(-H "mcp-method: $BENCH_MCP_METHOD")
    [ -n "$BENCH_MCP_NAME" ] && args+=(-H "mcp-name: $BENCH_MCP_NAME")
    local reply
    reply=$(curl "${args[@]}")
    echo "${reply##*$'\n'} ${reply%$'\n'*}"
}

# A session for the good token: initialize, then notifications/initialized.
open_session() {
    local headers
    headers=$(curl -s -D - -o /dev/null -X POST "$URL" -H "authorization: Bearer $GOOD" \
        -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \
        --data-binary '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"'"$SESSION_VERSION"'","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}')
    BENCH_SESSION=$(echo "$headers" | awk 'tolower($1) == "mcp-session-id:" { print $2 }' | tr -d '\r')
    [ -n "$BENCH_SESSION" ] || fail "initialize gave no Mcp-Session-Id"
    local status
    status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL" -H "authorization: Bearer $GOOD" \
        -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \
        -H "mcp-session-id: $BENCH_SESSION" -H "mcp-protocol-version: $SESSION_VERSION" \
        --data-binary '{"jsonrpc":"2.0","method":"notifications/initialized"}')
    [ "$status" = 202 ] || fail "notifications/initialized answered $status"
}

# check NAME EXACT: a good token gets the reply (byte for byte when EXACT
# is 1), a forged one 401 (a server without OAuth: the reply without any
# token).
check_server() {
    local name=$1 exact=$2 reply
    local token=$GOOD
    [ "$BENCH_AUTH" = off ] && token=""
    reply=$(post "$token")
    if [ "$exact" = 1 ]; then
        [ "$reply" = "200 $EXPECTED" ] || fail "$name: good request answered: $reply"
    else
        case "$reply" in
            "200 "*'"text":"hello"'*) ;;
            *) fail "$name: good request answered: $reply" ;;
        esac
    fi
    [ "$BENCH_AUTH" = off ] && return 0
    reply=$(post "$BAD")
    [ "${reply%% *}" = 401 ] || fail "$name: a forged token answered: $reply"
}

# wrk_run LABEL SECONDS -> the BENCH lines of wrk's Lua done(); fails on
# any non-2xx answer or socket error.
wrk_run() {
    local label=$1 seconds=$2 log="$OUT/$1.wrk.log"
    local authorization="Bearer $GOOD"
    [ "$BENCH_AUTH" = off ] && authorization=""
    BENCH_BODY=$BENCH_BODY BENCH_AUTHORIZATION="$authorization" BENCH_PROTOCOL=$BENCH_PROTOCOL \
        BENCH_SESSION=$BENCH_SESSION BENCH_MCP_METHOD=$BENCH_MCP_METHOD BENCH_MCP_NAME=$BENCH_MCP_NAME \
        taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${seconds}s" --latency \
        -s "$ROOT/bench/call.lua" "$URL" >"$log" 2>&1 || fail "$label: wrk failed (see $log)"
    local non2xx errors
    non2xx=$(awk '$1 == "BENCH" && $2 == "non2xx" { print $3 }' "$log")
    errors=$(awk '$1 == "BENCH" && $2 == "socket_errors" { print $3 }' "$log")
    [ -n "$non2xx" ] || fail "$label: no figures from wrk (see $log)"
    if [ "$non2xx" != 0 ] || [ "$errors" != 0 ]; then
        grep 'first_bad' "$log" >&2 || true
        fail "$label: $non2xx non-2xx answers and $errors socket errors under load (see $log)"
    fi
    cat "$log"
}

# measure NAME: warm-up, then the measured run; appends a row to
# $MEASURE_TO (default RESULTS):
# name rps p50_us p99_us cpu_us_per_request peak_rss_kib requests.
# With a Redis running, also a row to $OUT/redis.tsv: name, Redis commands
# per request, Redis CPU µs per request, the command mix.
measure() {
    local name=$1 t0 t1 log r0="" r1=""
    wrk_run "$name.warmup" "$WARMUP" >/dev/null
    if [ -n "$REDIS_PID" ]; then
        redis-cli -p "$REDIS_PORT" config resetstat >/dev/null
        r0=$(redis_totals)
    fi
    t0=$(cpu_ticks)
    log=$(wrk_run "$name" "$DURATION")
    t1=$(cpu_ticks)
    if [ -n "$REDIS_PID" ]; then
        r1=$(redis_totals)
        local requests mix
        requests=$(echo "$log" | awk '$1 == "BENCH" && $2 == "requests" { print $3 }')
        mix=$(redis_command_mix "$requests")
        echo "$r0 $r1" | awk -v name="$name" -v n="$requests" -v mix="$mix" '
            { printf "%s\t%.2f\t%.1f\t%s\n", name, ($3 - $1) / n, ($4 - $2) * 1e6 / n, mix }' >>"$OUT/redis.tsv"
    fi
    local hwm
    hwm=$(proc_kib VmHWM)
    echo "$log" | awk -v name="$name" -v t0="$t0" -v t1="$t1" -v tck="$CLK_TCK" -v hwm="$hwm" '
        $1 == "BENCH" { v[$2] = $3 }
        END {
            rps = v["requests"] / (v["duration_us"] / 1e6)
            cpu = (t1 - t0) * 1e6 / tck / v["requests"]
            printf "%s\t%.0f\t%d\t%d\t%.1f\t%d\t%d\n", name, rps, v["p50_us"], v["p99_us"], cpu, hwm, v["requests"]
        }' | tee -a "${MEASURE_TO:-$RESULTS}" >&2
}

# scenario NAME BINARY STATELESS CACHE TOOL WIRE [BACKEND]
#   STATELESS 1|0, CACHE on|off, TOOL echo|echo_scoped, WIRE 2025|2026,
#   BACKEND memory (default) | redis (sessions in Redis).
scenario() {
    local name=$1 binary=$2 stateless=$3 cache=$4 tool=$5 wire=$6 backend=${7:-memory}
    say "scenario $name"
    local shared=()
    if [ "$backend" = redis ]; then
        start_redis
        shared=(MCP_REDIS_URL="redis://127.0.0.1:$REDIS_PORT" MCP_STATE_SECRET=bench-state-secret-of-at-least-32-bytes)
    fi
    local observe=0
    case $name in *-observed) observe=1 ;; esac
    # Without OAuth: the bare floor, and ours without a provider.
    BENCH_AUTH=on
    case $name in bare-* | *-noauth-*) BENCH_AUTH=off ;; esac
    start_server "$name" "$binary" BENCH_STATELESS="$stateless" BENCH_CACHE="$cache" \
        BENCH_OBSERVE="$observe" BENCH_AUTH="$BENCH_AUTH" RUST_LOG="${BENCH_RUST_LOG:-info}" "${shared[@]}"
    BENCH_SESSION=""
    BENCH_MCP_METHOD=""
    BENCH_MCP_NAME=""
    if [ "$wire" = 2026 ]; then
        BENCH_BODY=$(call_body_2026 "$tool")
        BENCH_PROTOCOL=2026-07-28
        BENCH_MCP_METHOD=tools/call
        BENCH_MCP_NAME=$tool
    else
        BENCH_BODY=$(call_body "$tool")
        BENCH_PROTOCOL=2025-11-25
    fi
    if [ "$binary" = bench_server ] && [ "$stateless" = 0 ]; then
        open_session
        BENCH_PROTOCOL=$SESSION_VERSION
    fi
    local exact=1
    [ "$wire" = 2026 ] && exact=0
    check_server "$name" "$exact"
    if [ "$binary" = bench_server ] && [ "$tool" = echo_scoped ] && [ "$BENCH_AUTH" = on ]; then
        local reply
        reply=$(post "$NOSCOPE")
        [ "${reply%% *}" = 403 ] || fail "$name: a token without the scope answered: $reply"
    fi
    measure "$name"
    stop_server
    [ -n "$REDIS_PID" ] && stop_redis
    return 0
}

# --- the scenarios -----------------------------------------------------------

{
    echo "# Load benchmark run"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- CPUs: $(nproc) × $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "- memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "- load: wrk -t$THREADS -c$CONNECTIONS, ${WARMUP}s warm-up then ${DURATION}s measured, on CPU $LOAD_CPU; server on CPU $SERVER_CPU, 1 actix worker; sessions negotiate $SESSION_VERSION"
    echo "- git: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
} >"$OUT/summary.md"

start_jwks

# Ours, each scenario between two floor runs (BENCH_PAIRED=1, the default):
# a scenario is judged against the mean of the floor runs on either side
# of it, so the host's drift over the ~15 minutes of the run does not
# count as ours. BENCH_PAIRED=0 runs the floor only first and last.
OURS=(
    "open-stateless-cache 1 on echo 2025"
    "scoped-stateless-cache 1 on echo_scoped 2025"
    "open-session-cache 0 on echo 2025"
    "scoped-session-cache 0 on echo_scoped 2025"
    "open-stateless-nocache 1 off echo 2025"
    "scoped-stateless-nocache 1 off echo_scoped 2025"
    "open-session-nocache 0 off echo 2025"
    "scoped-session-nocache 0 off echo_scoped 2025"
    "scoped-2026wire-cache 1 on echo_scoped 2026"
    # Tracing at info (audit events included) and metrics on: issue 18's cost.
    "scoped-stateless-cache-observed 1 on echo_scoped 2025"
)
if [ "$REDIS" != 0 ]; then
    OURS+=(
        "open-session-cache-redis 0 on echo 2025 redis"
        "scoped-session-cache-redis 0 on echo_scoped 2025 redis"
    )
fi
if [ -n "$ONLY" ]; then
    kept=()
    for entry in "${OURS[@]}"; do
        case " $ONLY " in *" ${entry%% *} "*) kept+=("$entry") ;; esac
    done
    [ "${#kept[@]}" -gt 0 ] || fail "BENCH_SCENARIOS names none of ours: $ONLY"
    OURS=("${kept[@]}")
fi
scenario floor bench_floor 1 on echo_scoped 2025
for i in "${!OURS[@]}"; do
    read -r name stateless cache tool wire backend <<<"${OURS[$i]}"
    scenario "$name" bench_server "$stateless" "$cache" "$tool" "$wire" "${backend:-memory}"
    if [ "$PAIRED" = 1 ] && [ "$i" -lt $((${#OURS[@]} - 1)) ]; then
        scenario "floor-$((i + 2))" bench_floor 1 on echo_scoped 2025
    fi
done
scenario floor-again bench_floor 1 on echo_scoped 2025

# Against the bare floor (issue 20): the floor without OAuth, between ours
# without OAuth and ours authenticated with the token cache, stateless, the
# open tool. Kept apart from the table above (MEASURE_TO), whose floor is
# the authenticated one.
if [ "$BARE" != 0 ]; then
    BARE_RUNS=(
        "bare-floor bench_floor"
        "open-noauth-stateless bench_server"
        "bare-floor-2 bench_floor"
        "open-stateless-cache-vs-bare bench_server"
        "bare-floor-again bench_floor"
    )
    for entry in "${BARE_RUNS[@]}"; do
        read -r name binary <<<"$entry"
        MEASURE_TO=$OUT/bare.tsv scenario "$name" "$binary" 1 on echo 2025
    done
fi

# --- the table and the targets -----------------------------------------------

report() {
    awk -F'\t' '
        { row[NR] = $0; split($0, f, "\t"); name[NR] = f[1]; cpu[NR] = f[5]; p99[NR] = f[4]; rss[NR] = f[6] }
        $1 ~ /^floor/ { floor[NR] = 1; n++; fcpu += $5; fp99 += $4; frss += $6 }
        # The floor runs next to row i: the nearest before and after it.
        function local_floor(i,    j, k, c) {
            lcpu = 0; lp99 = 0; lrss = 0; c = 0
            for (j = i - 1; j >= 1 && !floor[j]; j--) {}
            for (k = i + 1; k <= NR && !floor[k]; k++) {}
            if (j >= 1) { lcpu += cpu[j]; lp99 += p99[j]; lrss += rss[j]; c++ }
            if (k <= NR) { lcpu += cpu[k]; lp99 += p99[k]; lrss += rss[k]; c++ }
            lcpu /= c; lp99 /= c; lrss /= c
        }
        END {
            fcpu /= n; fp99 /= n; frss /= n
            print "Each scenario of ours is compared with the mean of the floor runs next to it (before and after); a floor row is compared with the mean of all floor runs."
            print ""
            print "| scenario | req/s | p50 ms | p99 ms | CPU µs/req | CPU ×floor | floor p99 ms | peak RSS MiB | RSS − floor MiB |"
            print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
            for (i = 1; i <= NR; i++) {
                split(row[i], f, "\t")
                if (floor[i]) { lcpu = fcpu; lp99 = fp99; lrss = frss } else local_floor(i)
                printf "| %s | %d | %.2f | %.2f | %.1f | %.2f | %.2f | %.1f | %+.1f |\n",
                    f[1], f[2], f[3] / 1000, f[4] / 1000, f[5], f[5] / lcpu, lp99 / 1000, f[6] / 1024, (f[6] - lrss) / 1024
            }
            printf "\nAll floor runs: mean %.1f µs/req, p99 %.2f ms, peak RSS %.1f MiB.\n\n", fcpu, fp99 / 1000, frss / 1024
            print "| target | scenario | measured | met |"
            print "| --- | --- | --- | --- |"
            for (i = 1; i <= NR; i++) {
                if (floor[i]) continue
                split(row[i], f, "\t")
                local_floor(i)
                ratio = f[5] / lcpu
                if (f[1] ~ /-nocache$/) { limit = 1.15; what = "CPU ≤ 1.15× floor (cache off)" }
                else { limit = 0.6; what = "CPU ≤ 0.6× floor (cache on)" }
                printf "| %s | %s | %.2f× | %s |\n", what, f[1], ratio, (ratio <= limit ? "yes" : "**no**")
                printf "| p99 ≤ floor | %s | %.2f vs %.2f ms | %s |\n", f[1], f[4] / 1000, lp99 / 1000, (f[4] <= lp99 ? "yes" : "**no**")
                d = (f[6] - lrss) / 1024
                printf "| peak RSS ≤ floor + 10 MiB | %s | %+.1f MiB | %s |\n", f[1], d, (d <= 10 ? "yes" : "**no**")
                # Issue 20: a session costs no tail; its stateless twin is
                # the same scenario without a session.
                if (f[1] ~ /-session-/) {
                    twin = f[1]; sub(/-session-/, "-stateless-", twin)
                    for (j = 1; j <= NR; j++) if (name[j] == twin) {
                        printf "| p99 ≤ stateless p99 | %s | %.2f vs %.2f ms | %s |\n", f[1], f[4] / 1000, p99[j] / 1000, (f[4] <= p99[j] ? "yes" : "**no**")
                    }
                }
            }
        }' "$RESULTS"
}

{
    echo
    echo "## Requests"
    echo
    report
} >>"$OUT/summary.md"

# Ours against the bare floor.
if [ -s "$OUT/bare.tsv" ]; then
    {
        echo
        echo "## Against the bare floor (no OAuth)"
        echo
        echo "The floor without OAuth (bench_floor, BENCH_AUTH=off: parse the body, write the reply), ours without OAuth, and ours authenticated with the token cache; stateless, the open tool. Each of ours is compared with the mean of the bare floor runs before and after it."
        echo
        echo "| scenario | req/s | p50 ms | p99 ms | CPU µs/req | ×bare floor | target | met |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"
        awk -F'\t' '
            { row[NR] = $0; name[NR] = $1; cpu[NR] = $5 }
            END {
                for (i = 1; i <= NR; i++) {
                    split(row[i], f, "\t")
                    if (f[1] ~ /^bare-/) {
                        printf "| %s | %d | %.2f | %.2f | %.1f | | | |\n", f[1], f[2], f[3] / 1000, f[4] / 1000, f[5]
                        continue
                    }
                    c = 0; l = 0
                    if (i > 1 && name[i - 1] ~ /^bare-/) { l += cpu[i - 1]; c++ }
                    if (i < NR && name[i + 1] ~ /^bare-/) { l += cpu[i + 1]; c++ }
                    ratio = f[5] / (l / c)
                    limit = (f[1] ~ /noauth/) ? 1.1 : 1.2
                    printf "| %s | %d | %.2f | %.2f | %.1f | %.2f | ≤ %.1f× | %s |\n", f[1], f[2], f[3] / 1000, f[4] / 1000, f[5], ratio, limit, (ratio <= limit ? "yes" : "**no**")
                }
            }' "$OUT/bare.tsv"
    } >>"$OUT/summary.md"
fi

# The Redis-backed session scenarios against their in-memory twins.
if [ -s "$OUT/redis.tsv" ]; then
    {
        echo
        echo "## Sessions in Redis"
        echo
        echo "Each Redis-backed scenario beside the same scenario with sessions in memory (same run). Redis ran on the load CPU; its commands and CPU per request are from INFO commandstats and INFO cpu around the measured run. A request's session load is one pipeline (GETEX of the record, PEXPIRE of its subscriptions): two commands, one round trip."
        echo
        echo "| scenario | server CPU µs/req | in memory | ×memory (≤ 2) | p99 ms (< 5) | Redis commands/req | Redis CPU µs/req | command mix |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
        awk -F'\t' '
            FILENAME == ARGV[1] { cpu[$1] = $5; p99[$1] = $4; next }
            {
                twin = $1; sub(/-redis$/, "", twin)
                if (!(twin in cpu)) next
                ratio = cpu[$1] / cpu[twin]
                printf "| %s | %.1f | %.1f | %.2f %s | %.2f %s | %.2f | %.1f | %s |\n", $1, cpu[$1], cpu[twin],
                    ratio, (ratio <= 2 ? "yes" : "**no**"), p99[$1] / 1000, (p99[$1] < 5000 ? "yes" : "**no**"), $2, $3, $4
            }' "$RESULTS" "$OUT/redis.tsv"
    } >>"$OUT/summary.md"
fi

# --- 10,000 idle sessions and the session cap --------------------------------

if [ "$IDLE_SESSIONS" != 0 ]; then
    say "idle sessions: $IDLE_SESSIONS"
    start_server idle-sessions bench_server BENCH_STATELESS=0 BENCH_CACHE=on \
        BENCH_MAX_SESSIONS="$IDLE_SESSIONS"
    # One authenticated request first, so the key fetch and the verifier's
    # first allocations are not counted as sessions.
    BENCH_BODY=$(call_body echo)
    BENCH_PROTOCOL=2025-11-25
    BENCH_SESSION=""
    BENCH_MCP_METHOD=""
    BENCH_MCP_NAME=""
    post "$GOOD" >/dev/null
    before=$(proc_kib VmRSS)
    python3 "$ROOT/bench/sessions.py" 127.0.0.1 "$PORT" "$OUT/kit/good.jwt" "$IDLE_SESSIONS" 5 \
        >"$OUT/idle-sessions.log" || fail "the session cap did not answer a clean 503 (see $OUT/idle-sessions.log)"
    after=$(proc_kib VmRSS)
    hwm=$(proc_kib VmHWM)
    kill -0 "$SERVER_PID" 2>/dev/null || fail "the server died under $IDLE_SESSIONS sessions"
    opened=$(awk '$2 == "opened" { print $3 }' "$OUT/idle-sessions.log")
    refused=$(awk '$2 == "refused" { print $3 }' "$OUT/idle-sessions.log")
    refusal=$(awk '$2 == "first_refusal" { $1 = ""; $2 = ""; sub(/^  /, ""); print }' "$OUT/idle-sessions.log")
    BENCH_SESSION=$(awk '$2 == "first_session" { print $3 }' "$OUT/idle-sessions.log")
    still=$(post "$GOOD")
    [ "$still" = "200 $EXPECTED" ] || fail "an idle session no longer answers: $still"
    [ "$opened" = "$IDLE_SESSIONS" ] || fail "opened $opened of $IDLE_SESSIONS sessions"
    {
        echo
        echo "## $IDLE_SESSIONS idle sessions"
        echo
        awk -v n="$opened" -v b="$before" -v a="$after" -v h="$hwm" -v r="$refused" -v why="$refusal" 'BEGIN {
            printf "| sessions | RSS before MiB | RSS after MiB | growth MiB | per session KiB | peak RSS MiB | under 100 MB |\n"
            printf "| ---: | ---: | ---: | ---: | ---: | ---: | --- |\n"
            printf "| %d | %.1f | %.1f | %.1f | %.2f | %.1f | %s |\n", n, b / 1024, a / 1024, (a - b) / 1024, (a - b) / n, h / 1024, ((a - b) * 1024 < 100e6 ? "yes" : "**no**")
            printf "\nSession cap (%d): %d further `initialize` refused, each `%s`; the server kept serving its sessions.\n", n, r, why
        }'
    } >>"$OUT/summary.md"
    stop_server
fi

# --- a JWK set outage ----------------------------------------------------------

if [ "$OUTAGE" != 0 ]; then
    {
        echo
        echo "## JWK set outage (scoped tool, stateless)"
        echo
        echo "The same server process, loaded with the JWK set up, then again after the JWK set server was stopped."
        echo
        echo "| cache | phase | req/s | p99 ms | CPU µs/req | unknown kid answers |"
        echo "| --- | --- | ---: | ---: | ---: | --- |"
    } >>"$OUT/summary.md"
    for cache in on off; do
        say "JWK set outage, cache $cache"
        start_server "outage-$cache" bench_server BENCH_STATELESS=1 BENCH_CACHE="$cache"
        BENCH_BODY=$(call_body echo_scoped)
        BENCH_PROTOCOL=2025-11-25
        BENCH_SESSION=""
        BENCH_MCP_METHOD=""
        BENCH_MCP_NAME=""
        check_server "outage-$cache" 1
        MEASURE_TO=$OUT/outage.tsv measure "outage-$cache-up"
        unknown_up=$(post "$UNKNOWN_KID")
        # Stopped between two runs of one server process: its keys were
        # fetched while the JWK set was up, and must keep serving.
        stop_jwks
        t0=$(cpu_ticks)
        log=$(wrk_run "outage-$cache-down" "$DURATION")
        t1=$(cpu_ticks)
        # Unknown kids refetch at most once per 10 s: wait that out, so the
        # answer shows the outage and not the rate limit.
        sleep 11
        unknown_down=$(post "$UNKNOWN_KID")
        echo "$log" | awk -v name="outage-$cache-down" -v t0="$t0" -v t1="$t1" -v tck="$CLK_TCK" '
            $1 == "BENCH" { v[$2] = $3 }
            END { printf "%s\t%.0f\t%d\t%d\t%.1f\t0\t%d\n", name, v["requests"] / (v["duration_us"] / 1e6), v["p50_us"], v["p99_us"], (t1 - t0) * 1e6 / tck / v["requests"], v["requests"] }' \
            >>"$OUT/outage.tsv"
        awk -F'\t' -v cache="$cache" -v up="${unknown_up%% *}" -v down="${unknown_down%% *}" '
            $1 == "outage-" cache "-up" { printf "| %s | JWK set up | %d | %.2f | %.1f | %s |\n", cache, $2, $4 / 1000, $5, up }
            $1 == "outage-" cache "-down" { printf "| %s | JWK set down | %d | %.2f | %.1f | %s |\n", cache, $2, $4 / 1000, $5, down }' \
            "$OUT/outage.tsv" >>"$OUT/summary.md"
        stop_server
        start_jwks
    done
    echo >>"$OUT/summary.md"
    echo "Every request during the outage answered 2xx (the run fails otherwise)." >>"$OUT/summary.md"
fi

# --- profiles ----------------------------------------------------------------

if [ "$PERF" != 0 ] && command -v perf >/dev/null; then
    # The floor too: the difference between its profile and ours is the
    # framework's own work.
    for cache in ${BENCH_PERF_RUNS:-on off floor}; do
        say "perf: scoped tool, stateless, cache $cache"
        BENCH_AUTH=on
        if [ "$cache" = floor ]; then
            start_server perf-floor bench_floor
        elif [ "$cache" = bare ]; then
            BENCH_AUTH=off
            start_server perf-bare bench_floor BENCH_AUTH=off
        elif [ "$cache" = noauth ]; then
            BENCH_AUTH=off
            start_server perf-noauth bench_server BENCH_STATELESS=1 BENCH_AUTH=off
        elif [ "$cache" = observed ]; then
            start_server perf-observed bench_server BENCH_STATELESS=1 BENCH_CACHE=on \
                BENCH_OBSERVE=1 RUST_LOG="${BENCH_RUST_LOG:-info}"
        else
            start_server "perf-$cache" bench_server BENCH_STATELESS=1 BENCH_CACHE="$cache"
        fi
        BENCH_BODY=$(call_body echo_scoped)
        BENCH_PROTOCOL=2025-11-25
        BENCH_SESSION=""
        BENCH_MCP_METHOD=""
        BENCH_MCP_NAME=""
        check_server "perf-$cache" 1
        wrk_run "perf-$cache.warmup" "$WARMUP" >/dev/null
        taskset -c "$LOAD_CPU" perf record -g -o "$OUT/perf-cache-$cache.data" -p "$SERVER_PID" \
            -- sleep "$DURATION" >"$OUT/perf-cache-$cache.record.log" 2>&1 &
        perf_pid=$!
        wrk_run "perf-$cache" "$DURATION" >/dev/null
        wait "$perf_pid" || fail "perf record failed (see $OUT/perf-cache-$cache.record.log)"
        # Whole reports to files first: `head` on a pipe would stop perf
        # with SIGPIPE, which pipefail turns into a failed run.
        perf report -i "$OUT/perf-cache-$cache.data" --no-children --stdio \
            >"$OUT/perf-cache-$cache.full.txt" 2>/dev/null || true
        sed -n 1,100p "$OUT/perf-cache-$cache.full.txt" >"$OUT/perf-cache-$cache.txt"
        perf report -i "$OUT/perf-cache-$cache.data" --no-children --stdio -g none \
            --sort dso,sym --percent-limit 0 >"$OUT/perf-cache-$cache.flat.txt" 2>/dev/null || true
        {
            echo
            if [ "$cache" = floor ]; then
                echo "## Profile: the floor (perf, server CPU only)"
            elif [ "$cache" = bare ]; then
                echo "## Profile: the bare floor, no OAuth (perf, server CPU only)"
            elif [ "$cache" = noauth ]; then
                echo "## Profile: ours without OAuth, stateless (perf, server CPU only)"
            elif [ "$cache" = observed ]; then
                echo "## Profile: scoped tool, stateless, cache on, traced, metrics and audit lines (perf, server CPU only)"
            else
                echo "## Profile: scoped tool, stateless, cache $cache (perf, server CPU only)"
            fi
            echo
            python3 "$ROOT/bench/perf_summary.py" <"$OUT/perf-cache-$cache.flat.txt"
        } >>"$OUT/summary.md"
        stop_server
    done
    echo >>"$OUT/summary.md"
    echo "Whole profiles: perf-cache-{on,off,floor}.txt (call graphs) and .flat.txt beside this file." >>"$OUT/summary.md"
fi

cat "$OUT/summary.md"
