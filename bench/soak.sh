#!/usr/bin/env bash
# The soak run of issue 16: mixed traffic for SOAK_SECONDS against release
# servers, one command.
#
#     bench/soak.sh                      # 10 minutes
#     SOAK_SECONDS=120 bench/soak.sh     # a shake-out
#
# It builds examples/quickstart.rs (`oauth = dev`: its own authorization
# server, in proxy mode) and examples/replicas.rs (the example whose `ask`
# tool elicits; no auth, no Redis: one process) in release mode, starts them
# on loopback, and runs these loops side by side until the time is up:
#
#   valid      (quickstart) stateless 2026-07-28 calls with a
#              client_credentials token holding every scope (renewed every
#              30 s): tools/list, whoami, add, add-task -> 200
#   badtoken   (quickstart) no token, garbage, a token signed by another key
#              under the right kid, an expired token signed by the right key,
#              a token for another audience -> 401
#   scope      (quickstart) add-task with a client_credentials token without
#              `tasks:write` -> 403
#   session    (quickstart) 2025-11-25 sessions: initialize, initialized,
#              a call, a GET SSE stream cut after 1 s, a countdown whose SSE
#              response is cut mid-stream, DELETE, then a call on the deleted
#              session (404)
#   elicit     (replicas) sessions that start `ask` (the elicitation request
#              arrives, is never answered, the stream is cut) and `wait`
#              (cut), then DELETE
#   sdk-elicit (replicas) tests/node/replicas.mjs in a loop: the official
#              TypeScript SDK, one session each: 50 calls, 3 resource
#              updates, 3 elicitation round trips, 3 cancellations
#   sdk-signin (quickstart) tests/node/oauth-client.mjs in a loop: the SDK's
#              own OAuth client: 401, discovery, registration, PKCE
#              authorization through the consent page, token, a call
#   flood      (quickstart, from 127.0.0.2 so its budget is not the
#              sign-ins') the endpoints anyone can reach without a token, as
#              fast as one curl at a time goes: /register (junk and valid),
#              /authorize (junk), /authorize/consent (junk), /token (junk
#              grants, wrong client secret), the metadata documents, /jwks,
#              /mcp without a token -> 200/400/401/429
#
# Every curl answer is counted by loop, request and status. The SDK loops
# count runs that succeeded and failed. Every SOAK_SAMPLE_SECONDS it samples
# each server's VmRSS, open file descriptors and threads from /proc.
#
# Criteria (exit 1 when one fails): no 5xx but 503 (none expected here;
# 429 is a 4xx); no `panicked` in either server's log; both servers alive at
# the end; every curl answer the one its request expects (000, a curl-side
# timeout on a busy machine, is counted, not failed); both SDK loops without
# a failed run; RSS and open fds flat: the mean of the last window within 10%
# of the mean of the first window after warm-up. With the default 600 s the
# warm-up is the first 60 s, so "first minute" means the samples from 60 s
# to 120 s; "last minute" the samples of the last 60 s. (For runs shorter
# than 240 s both are a quarter of the run.)
#
# Settings (environment): SOAK_SECONDS (600), SOAK_SAMPLE_SECONDS (10),
# SOAK_LOOPS (the loops to run, by name as above; default all: to find which
# traffic a growth follows, e.g. SOAK_LOOPS="sdk-signin"),
# SOAK_PORT (3301, quickstart), SOAK_REPLICAS_PORT (3302), SOAK_FLOOD_ADDR
# (127.0.0.2), SOAK_TOKEN_TTL and SOAK_REFRESH_TTL (the quickstart's access
# and refresh token lifetimes, 120 and 300 s), SOAK_OUT (default
# target/soak/<time>), SOAK_BUILD (1; 0 uses the binaries already built). Results in $SOAK_OUT: summary.md (also
# printed), codes/ (one line per request: name and status; one per SDK run),
# samples.tsv, the servers' logs (RUST_LOG=warn) and the SDK runs' stderr
# (*.errors).

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

SOAK_SECONDS=${SOAK_SECONDS:-600}
SAMPLE=${SOAK_SAMPLE_SECONDS:-10}
PORT=${SOAK_PORT:-3301}
RPORT=${SOAK_REPLICAS_PORT:-3302}
FLOOD_ADDR=${SOAK_FLOOD_ADDR:-127.0.0.2}
BUILD=${SOAK_BUILD:-1}
TOKEN_TTL=${SOAK_TOKEN_TTL:-120}
REFRESH_TTL=${SOAK_REFRESH_TTL:-300}
LOOPS=${SOAK_LOOPS:-valid badtoken scope session elicit flood sdk-elicit sdk-signin}
OUT=${SOAK_OUT:-$ROOT/target/soak/$(date +%Y%m%d-%H%M%S)}

BASE=http://127.0.0.1:$PORT
URL=$BASE/mcp
RBASE=http://127.0.0.1:$RPORT
RURL=$RBASE/mcp
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/examples
NODE_DIR=$ROOT/tests/node
NODE=$NODE_DIR/node_modules/.bin/node
CODES=$OUT/codes
SAMPLES=$OUT/samples.tsv

fail() {
    echo "FAILED: $*" >&2
    exit 1
}

say() {
    echo "== $*" >&2
}

for tool in curl python3 openssl; do
    command -v "$tool" >/dev/null || fail "$tool is required"
done
[ "$SOAK_SECONDS" -ge 20 ] 2>/dev/null || fail "SOAK_SECONDS must be a number of seconds, at least 20"

if [ ! -x "$NODE" ]; then
    say "installing the Node peers (npm ci in tests/node)"
    (cd "$NODE_DIR" && npm ci >/dev/null)
fi
if [ "$BUILD" != 0 ]; then
    say "building examples quickstart and replicas (release)"
    cargo build --release --example quickstart --example replicas
fi
[ -x "$BIN/quickstart" ] && [ -x "$BIN/replicas" ] || fail "no release binaries in $BIN"

mkdir -p "$OUT" "$CODES"
say "results in $OUT"

# --- processes ---------------------------------------------------------------

QS_PID=""
RP_PID=""
LOOP_PIDS=()

cleanup() {
    for pid in "${LOOP_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        pkill -P "$pid" 2>/dev/null || true
    done
    [ -n "$QS_PID" ] && kill "$QS_PID" 2>/dev/null || true
    [ -n "$RP_PID" ] && kill "$RP_PID" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 143' INT TERM

CLIENT_ID=soak-client
CLIENT_SECRET=$(openssl rand -hex 16)

say "starting quickstart on $URL"
# Short token lifetimes, so what each sign-in leaves (its access token's
# cached verdict, its refresh token) expires within the warm-up and the
# windows compare steady states: with the default hour, live state grows for
# an hour by design, and "flat" could not tell that from a leak.
HOST=127.0.0.1 PORT=$PORT RUST_LOG=warn \
    MCP_DEV_OAUTH_ACCESS_TOKEN_TTL=$TOKEN_TTL MCP_DEV_OAUTH_REFRESH_TOKEN_TTL=$REFRESH_TTL \
    MCP_DEV_OAUTH_KEY_FILE="$OUT/dev-key.pem" \
    MCP_DEV_OAUTH_CLIENT_ID=$CLIENT_ID MCP_DEV_OAUTH_CLIENT_SECRET=$CLIENT_SECRET \
    "$BIN/quickstart" >"$OUT/quickstart.log" 2>&1 &
QS_PID=$!

say "starting replicas on $RURL"
HOST=127.0.0.1 PORT=$RPORT RUST_LOG=warn "$BIN/replicas" >"$OUT/replicas.log" 2>&1 &
RP_PID=$!

TOKEN=""
for _ in $(seq 100); do
    TOKEN=$(sed -n 's/^ *TOKEN=//p' "$OUT/quickstart.log" | head -1)
    [ -n "$TOKEN" ] && break
    kill -0 "$QS_PID" 2>/dev/null || fail "quickstart exited (see $OUT/quickstart.log)"
    sleep 0.1
done
[ -n "$TOKEN" ] || fail "quickstart printed no TOKEN= line (see $OUT/quickstart.log)"
for _ in $(seq 100); do
    curl -s -o /dev/null "$RBASE/.well-known/oauth-protected-resource" && break
    kill -0 "$RP_PID" 2>/dev/null || fail "replicas exited (see $OUT/replicas.log)"
    sleep 0.1
done

# client_credentials tokens the loops use, rewritten every 30 s (they live
# TOKEN_TTL): every scope in $OUT/token, none in $OUT/noscope (no
# `tasks:write`).
fetch_token() { # FILE CURL_SCOPE_ARGS...
    local file=$1 token
    shift
    token=$(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials "$@" \
        "$BASE/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])') ||
        return 1
    echo "$token" >"$file.new" && mv "$file.new" "$file"
}
fetch_token "$OUT/token" || fail "no client_credentials token from $BASE/token"
fetch_token "$OUT/noscope" -d scope= || fail "no client_credentials token from $BASE/token"

# Tokens that must be refused: an expired one signed by the server's own key,
# one signed by another key under the same kid, one for another audience.
read -r EXPIRED FORGED OTHER_AUD < <(
    "$NODE" --input-type=module - "$TOKEN" "$OUT/dev-key.pem" <<'EOF'
import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
const [token, keyFile] = process.argv.slice(2);
const [h, p] = token.split('.');
const claims = JSON.parse(Buffer.from(p, 'base64url'));
const key = createPrivateKey(readFileSync(keyFile));
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const jwt = (c, k) => {
  const input = `${h}.${Buffer.from(JSON.stringify(c)).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: k, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
};
const now = Math.floor(Date.now() / 1000);
const expired = jwt({ ...claims, iat: now - 7200, nbf: now - 7200, exp: now - 3600 }, key);
const forged = jwt(claims, other);
const otherAud = jwt({ ...claims, aud: 'http://127.0.0.1:1/mcp' }, key);
console.log(expired, forged, otherAud);
EOF
)
[ -n "$OTHER_AUD" ] || fail "could not make the refused tokens"

# --- what one request expects -------------------------------------------------

# Which statuses each request name may answer with; anything else is counted
# as unexpected. 000 (curl gave up, or the loop cut the request) is never
# unexpected.
expected() {
    case $1 in
        valid.*|session.initialize|session.call|session.get-sse|session.countdown-cut) echo "200" ;;
        session.initialized|elicit.initialized) echo "202" ;;
        session.delete|elicit.delete) echo "200 202 204" ;;
        session.after-delete) echo "404" ;;
        badtoken.*) echo "401" ;;
        scope.*) echo "403" ;;
        elicit.initialize|elicit.ask-cut|elicit.get-sse) echo "200" ;;
        # `wait` answers with plain JSON after 30 s: cut after 1 s, it has no
        # status yet (000).
        elicit.wait-cut) echo "000" ;;
        flood.metadata*|flood.jwks) echo "200" ;;
        flood.register-valid) echo "201 429" ;;
        flood.mcp-no-token) echo "401" ;;
        flood.*) echo "400 401 429" ;;
        *) echo "?" ;;
    esac
}

# --- traffic -----------------------------------------------------------------

START=$EPOCHSECONDS
END=$((START + SOAK_SECONDS))
ACCEPT='Accept: application/json, text/event-stream'
JSON='Content-Type: application/json'
NEXT='MCP-Protocol-Version: 2026-07-28'
META='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'

running() { [ "$EPOCHSECONDS" -lt "$END" ]; }

# hit LOGFILE NAME CURL_ARGS...: one request, its status appended as "NAME CODE".
hit() {
    local log=$1 name=$2 code
    shift 2
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" 2>/dev/null) || true
    echo "$name ${code:-000}" >>"$log"
}

# A stateless tools/call on the 2026-07-28 wire.
call_args() { # TOOL ARGS_JSON
    printf '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"%s","arguments":%s,%s}}' "$1" "$2" "$META"
}

loop_tokens() {
    while running; do
        sleep 30
        fetch_token "$OUT/token" || say "could not renew the loops' token"
        fetch_token "$OUT/noscope" -d scope= || say "could not renew the loops' token"
    done
}

loop_valid() {
    local log=$CODES/valid.log auth
    while running; do
        auth="Authorization: Bearer $(<"$OUT/token")"
        hit "$log" valid.tools-list -X POST "$URL" -H "$auth" -H "$JSON" -H "$ACCEPT" -H "$NEXT" \
            -H 'Mcp-Method: tools/list' \
            -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{$META}}"
        for tool in whoami add add-task; do
            case $tool in
                add) args='{"a":2,"b":3}' ;;
                add-task) args='{"title":"soak"}' ;;
                *) args='{}' ;;
            esac
            hit "$log" "valid.$tool" -X POST "$URL" -H "$auth" -H "$JSON" -H "$ACCEPT" -H "$NEXT" \
                -H 'Mcp-Method: tools/call' -H "Mcp-Name: $tool" -d "$(call_args "$tool" "$args")"
        done
        sleep 0.05
    done
}

loop_badtoken() {
    local log=$CODES/badtoken.log body
    body=$(call_args whoami '{}')
    while running; do
        hit "$log" badtoken.none -X POST "$URL" -H "$JSON" -H "$ACCEPT" -H "$NEXT" \
            -H 'Mcp-Method: tools/call' -H 'Mcp-Name: whoami' -d "$body"
        for kind in garbage forged expired other-aud; do
            case $kind in
                garbage) t=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=') ;;
                forged) t=$FORGED ;;
                expired) t=$EXPIRED ;;
                other-aud) t=$OTHER_AUD ;;
            esac
            hit "$log" "badtoken.$kind" -X POST "$URL" -H "Authorization: Bearer $t" -H "$JSON" \
                -H "$ACCEPT" -H "$NEXT" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: whoami' -d "$body"
        done
        sleep 0.05
    done
}

loop_scope() {
    local log=$CODES/scope.log
    while running; do
        hit "$log" scope.add-task -X POST "$URL" -H "Authorization: Bearer $(<"$OUT/noscope")" \
            -H "$JSON" \
            -H "$ACCEPT" -H "$NEXT" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: add-task' \
            -d "$(call_args add-task '{"title":"not allowed"}')"
        sleep 0.1
    done
}

# initialize on URL with CAPS, printing the session id (empty on failure);
# records the status under PREFIX.initialize.
open_session() { # LOG PREFIX URL AUTH_HEADER CAPS
    local log=$1 prefix=$2 url=$3 auth=$4 caps=$5 headers code
    headers=$(mktemp)
    code=$(curl -s -o /dev/null -D "$headers" -w '%{http_code}' --max-time 10 -X POST "$url" \
        ${auth:+-H "$auth"} -H "$JSON" -H "$ACCEPT" \
        -d "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":$caps,\"clientInfo\":{\"name\":\"soak\",\"version\":\"1\"}}}" \
        2>/dev/null) || true
    echo "$prefix.initialize ${code:-000}" >>"$log"
    tr -d '\r' <"$headers" | sed -n 's/^[Mm][Cc][Pp]-[Ss]ession-[Ii][Dd]: *//p' | head -1
    rm -f "$headers"
}

loop_session() {
    local log=$CODES/session.log auth sid v='MCP-Protocol-Version: 2025-11-25'
    while running; do
        auth="Authorization: Bearer $(<"$OUT/token")"
        sid=$(open_session "$log" session "$URL" "$auth" '{}')
        if [ -z "$sid" ]; then sleep 0.5; continue; fi
        local s="Mcp-Session-Id: $sid"
        hit "$log" session.initialized -X POST "$URL" -H "$auth" -H "$s" -H "$v" -H "$JSON" -H "$ACCEPT" \
            -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
        hit "$log" session.call -X POST "$URL" -H "$auth" -H "$s" -H "$v" -H "$JSON" -H "$ACCEPT" \
            -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'
        # A GET stream, dropped after a second.
        hit "$log" session.get-sse --max-time 1 "$URL" -H "$auth" -H "$s" -H "$v" -H 'Accept: text/event-stream'
        # A countdown answered over SSE with progress, dropped mid-stream.
        hit "$log" session.countdown-cut --max-time 2 -X POST "$URL" -H "$auth" -H "$s" -H "$v" -H "$JSON" \
            -H "$ACCEPT" \
            -d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"countdown","arguments":{"from":5},"_meta":{"progressToken":"p"}}}'
        hit "$log" session.delete -X DELETE "$URL" -H "$auth" -H "$s" -H "$v"
        hit "$log" session.after-delete -X POST "$URL" -H "$auth" -H "$s" -H "$v" -H "$JSON" -H "$ACCEPT" \
            -d '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'
    done
}

loop_elicit() {
    local log=$CODES/elicit.log sid v='MCP-Protocol-Version: 2025-11-25'
    while running; do
        sid=$(open_session "$log" elicit "$RURL" "" '{"elicitation":{"form":{}}}')
        if [ -z "$sid" ]; then sleep 0.5; continue; fi
        local s="Mcp-Session-Id: $sid"
        hit "$log" elicit.initialized -X POST "$RURL" -H "$s" -H "$v" -H "$JSON" -H "$ACCEPT" \
            -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
        # The elicitation request arrives on this stream; nobody answers it.
        hit "$log" elicit.ask-cut --max-time 1 -X POST "$RURL" -H "$s" -H "$v" -H "$JSON" -H "$ACCEPT" \
            -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ask","arguments":{}}}'
        hit "$log" elicit.wait-cut --max-time 1 -X POST "$RURL" -H "$s" -H "$v" -H "$JSON" -H "$ACCEPT" \
            -d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"wait","arguments":{}}}'
        hit "$log" elicit.get-sse --max-time 1 "$RURL" -H "$s" -H "$v" -H 'Accept: text/event-stream'
        hit "$log" elicit.delete -X DELETE "$RURL" -H "$s" -H "$v"
    done
}

# Runs a Node peer in a loop, counting runs that succeeded and failed.
loop_node() { # NAME PAUSE ENV... ARGS...
    local name=$1 pause=$2 log=$CODES/$1.runs errs=$OUT/$1.errors
    shift 2
    while running; do
        if env "$@" >/dev/null 2>>"$errs"; then
            echo "ok" >>"$log"
        else
            echo "failed" >>"$log"
        fi
        sleep "$pause"
    done
}

loop_flood() {
    local log=$CODES/flood.log i=0 f="--interface $FLOOD_ADDR"
    while running; do
        i=$((i + 1))
        # shellcheck disable=SC2086
        {
            hit "$log" flood.register-junk $f -X POST "$BASE/register" -H "$JSON" -d '{"redirect_uris":'
            hit "$log" flood.register-bad-uri $f -X POST "$BASE/register" -H "$JSON" \
                -d '{"redirect_uris":["javascript:alert(1)"]}'
            hit "$log" flood.authorize-junk $f "$BASE/authorize?response_type=token&client_id=nobody&x=$i"
            hit "$log" flood.authorize-no-pkce $f \
                "$BASE/authorize?response_type=code&client_id=nobody&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb&state=s"
            hit "$log" flood.consent-junk $f -X POST "$BASE/authorize/consent" \
                -d "consent_token=junk$i&decision=approve"
            hit "$log" flood.token-junk $f -X POST "$BASE/token" -d "grant_type=authorization_code&code=junk$i"
            hit "$log" flood.token-bad-secret $f -X POST "$BASE/token" -u "$CLIENT_ID:wrong-secret-$i" \
                -d grant_type=client_credentials
            hit "$log" flood.metadata-as $f "$BASE/.well-known/oauth-authorization-server"
            hit "$log" flood.metadata-pr $f "$BASE/.well-known/oauth-protected-resource/mcp"
            hit "$log" flood.jwks $f "$BASE/jwks"
            hit "$log" flood.mcp-no-token $f -X POST "$URL" -H "$JSON" -H "$ACCEPT" -d '{"jsonrpc":"2.0"}'
            if [ $((i % 10)) = 0 ]; then
                hit "$log" flood.register-valid $f -X POST "$BASE/register" -H "$JSON" \
                    -d '{"redirect_uris":["http://127.0.0.1:9/cb"],"token_endpoint_auth_method":"none","client_name":"flood"}'
            fi
        }
    done
}

sample() { # T
    local t=$1 pid name
    for name in quickstart replicas; do
        if [ "$name" = quickstart ]; then pid=$QS_PID; else pid=$RP_PID; fi
        [ -d "/proc/$pid" ] || { printf '%s\t%s\tdead\tdead\tdead\n' "$t" "$name" >>"$SAMPLES"; continue; }
        local rss fds threads
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
        threads=$(awk '/^Threads:/ {print $2}' "/proc/$pid/status")
        fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
        printf '%s\t%s\t%s\t%s\t%s\n' "$t" "$name" "$rss" "$fds" "$threads" >>"$SAMPLES"
    done
}

printf 't\tserver\trss_kb\tfds\tthreads\n' >"$SAMPLES"
sample 0

say "traffic for $SOAK_SECONDS s (until $(date -d "@$END" +%T))"
start_loop() { # NAME FUNCTION ARGS...
    case " $LOOPS " in
        *" $1 "*) ;;
        *) return 0 ;;
    esac
    shift
    "$@" &
    LOOP_PIDS+=($!)
}
loop_tokens &
LOOP_PIDS+=($!)
start_loop valid loop_valid
start_loop badtoken loop_badtoken
start_loop scope loop_scope
start_loop session loop_session
start_loop elicit loop_elicit
start_loop flood loop_flood
start_loop sdk-elicit loop_node sdk-elicit 1 MCP_CLIENT_TIMEOUT_MS=60000 "$NODE" "$NODE_DIR/replicas.mjs" "$RURL"
# Two sign-ins a run, a 3 s pause: well within the 60 a minute each OAuth
# endpoint allows one address (the floods come from another).
start_loop sdk-signin loop_node sdk-signin 3 MCP_CLIENT_TIMEOUT_MS=60000 MCP_CLIENT_SIGN_INS=2 \
    "$NODE" "$NODE_DIR/oauth-client.mjs" "$URL" "http://127.0.0.1:9/callback" add '{"a":1,"b":2}'

while running; do
    sleep "$SAMPLE"
    sample $((EPOCHSECONDS - START))
    for pid in "$QS_PID" "$RP_PID"; do
        [ -d "/proc/$pid" ] || say "a server died at $((EPOCHSECONDS - START)) s"
    done
done

say "time is up: waiting for the loops to finish their last step"
for pid in "${LOOP_PIDS[@]}"; do
    # A Node run in flight has its own deadline (60 s); do not wait longer.
    timeout 90 tail --pid="$pid" -f /dev/null || kill "$pid" 2>/dev/null || true
done
LOOP_PIDS=()
QS_ALIVE=yes
RP_ALIVE=yes
kill -0 "$QS_PID" 2>/dev/null || QS_ALIVE=no
kill -0 "$RP_PID" 2>/dev/null || RP_ALIVE=no

# --- figures -----------------------------------------------------------------

COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
export OUT SOAK_SECONDS SAMPLE COMMIT LOOPS QS_ALIVE RP_ALIVE START
export EXPECTED_TABLE
EXPECTED_TABLE=$({ cat "$CODES"/*.log 2>/dev/null || true; } | awk '{print $1}' | sort -u | while read -r name; do
    echo "$name $(expected "$name")"
done)

python3 - <<'EOF'
import collections, glob, os, re, sys, time

out = os.environ["OUT"]
soak = int(os.environ["SOAK_SECONDS"])
expected = {}
for line in os.environ["EXPECTED_TABLE"].splitlines():
    name, *codes = line.split()
    expected[name] = set(codes)

counts = collections.Counter()          # (name, code) -> n
for path in glob.glob(f"{out}/codes/*.log"):
    for line in open(path):
        name, code = line.split()
        counts[(name, code)] += 1
by_status = collections.Counter()
for (name, code), n in counts.items():
    by_status[code] += n
total = sum(by_status.values())
bad_5xx = sum(n for c, n in by_status.items() if c.startswith("5") and c != "503")
n_503 = by_status.get("503", 0)
unexpected = {(name, code): n for (name, code), n in counts.items()
              if code != "000" and code not in expected.get(name, set())}

runs = {}
for name in [n for n in ("sdk-elicit", "sdk-signin") if n in os.environ["LOOPS"].split()]:
    lines = open(f"{out}/codes/{name}.runs").read().split() if os.path.exists(f"{out}/codes/{name}.runs") else []
    runs[name] = (lines.count("ok"), lines.count("failed"))

panics = {}
for server in ("quickstart", "replicas"):
    text = open(f"{out}/{server}.log", errors="replace").read()
    panics[server] = [l for l in text.splitlines() if "panicked" in l]

samples = collections.defaultdict(list)   # server -> [(t, rss, fds, threads)]
for line in open(f"{out}/samples.tsv").read().splitlines()[1:]:
    t, server, rss, fds, threads = line.split("\t")
    if rss == "dead":
        continue
    samples[server].append((int(t), int(rss), int(fds), int(threads)))

warm = 60 if soak >= 240 else soak // 4
window = 60 if soak >= 240 else soak // 4

def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")

flat = {}
for server, rows in samples.items():
    first = [r for r in rows if warm <= r[0] < warm + window]
    last = [r for r in rows if r[0] > soak - window]
    very_first = [r for r in rows if r[0] < warm]
    for i, what in ((1, "RSS (KiB)"), (2, "open fds")):
        f, l, v = mean([r[i] for r in first]), mean([r[i] for r in last]), mean([r[i] for r in very_first])
        change = (l - f) / f * 100 if f else float("nan")
        flat[(server, what)] = (v, f, l, change, len(first), len(last), abs(change) <= 10,
                                max(r[i] for r in rows))

crit = []
crit.append(("no 5xx except 503", bad_5xx == 0, f"{bad_5xx} (503: {n_503})"))
crit.append(("no panic in the logs", not any(panics.values()),
             ", ".join(f"{s}: {len(p)}" for s, p in panics.items())))
crit.append(("servers alive at the end",
             os.environ["QS_ALIVE"] == "yes" and os.environ["RP_ALIVE"] == "yes",
             f"quickstart {os.environ['QS_ALIVE']}, replicas {os.environ['RP_ALIVE']}"))
crit.append(("every answer the expected one", not unexpected, f"{sum(unexpected.values())} unexpected"))
for name, (ok, failed) in runs.items():
    crit.append((f"{name} runs all succeeded", failed == 0 and ok > 0, f"{ok} ok, {failed} failed"))
for (server, what), (v, f, l, change, nf, nl, ok, peak) in sorted(flat.items()):
    crit.append((f"{server} {what} flat (last vs first window, within 10%)", ok,
                 f"{f:.0f} -> {l:.0f} ({change:+.1f}%)"))

md = []
md.append(f"# Soak run, {time.strftime('%Y-%m-%d %H:%M %Z')}, commit {os.environ['COMMIT']}\n")
md.append(f"Loops: {os.environ['LOOPS']}.\n")
md.append(f"`SOAK_SECONDS={soak}`, samples every {os.environ['SAMPLE']} s; "
          f"first window = samples at {warm}-{warm + window} s (the first {warm} s are warm-up), "
          f"last window = the last {window} s.\n")
md.append("## Criteria\n")
md.append("| criterion | met | figure |\n|---|---|---|")
for name, ok, figure in crit:
    md.append(f"| {name} | {'yes' if ok else '**NO**'} | {figure} |")
md.append(f"\n## Requests: {total} curl requests ({total / soak:.1f}/s)\n")
md.append("| status | count |\n|---|---|")
for code, n in sorted(by_status.items()):
    md.append(f"| {code} | {n} |")
md.append("\n| request | statuses |\n|---|---|")
names = sorted({name for name, _ in counts})
for name in names:
    cs = ", ".join(f"{code}: {counts[(name, code)]}" for code in sorted({c for n, c in counts if n == name}))
    md.append(f"| {name} | {cs} |")
md.append("\n| SDK loop | runs ok | runs failed |\n|---|---|---|")
for name, (ok, failed) in runs.items():
    md.append(f"| {name} | {ok} | {failed} |")
if unexpected:
    md.append("\n## Unexpected answers\n")
    for (name, code), n in sorted(unexpected.items()):
        md.append(f"- {name}: {code} x{n} (expected {' '.join(sorted(expected.get(name, [])))})")
md.append("\n## Memory and descriptors\n")
md.append("| server | figure | first 60 s (warm-up) | first window | last window | change | peak |\n|---|---|---|---|---|---|---|")
for (server, what), (v, f, l, change, nf, nl, ok, peak) in sorted(flat.items()):
    md.append(f"| {server} | {what} | {v:.0f} | {f:.0f} | {l:.0f} | {change:+.1f}% | {peak} |")
for server, lines in panics.items():
    if lines:
        md.append(f"\n## Panics in {server}.log\n")
        md.extend(f"    {l}" for l in lines[:20])
text = "\n".join(md) + "\n"
open(f"{out}/summary.md", "w").write(text)
print(text)
sys.exit(0 if all(ok for _, ok, _ in crit) else 1)
EOF
