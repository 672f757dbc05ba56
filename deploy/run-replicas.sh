#!/usr/bin/env bash
# Runs an example as several replicas behind nginx, sharing state in Redis:
#
#   deploy/run-replicas.sh [EXAMPLE | PATH/TO/BINARY]
#
# EXAMPLE (default `conformance`) is built with
# `cargo build --release --example EXAMPLE`; a path (anything with a `/`) is
# run as it is. Then: redis-server, REPLICAS copies of the server on
# consecutive ports from FIRST_PORT, and nginx (deploy/nginx.conf) on
# NGINX_PORT in front of them, round robin. It prints the balancer's URL and
# runs until Ctrl-C, which stops everything it started.
#
# Settings, from the environment:
#   REPLICAS          how many servers (default 3)
#   NGINX_PORT        the balancer's port (default 8080)
#   REDIS_PORT        Redis's port (default 6390)
#   FIRST_PORT        the first replica's port (default 3001)
#   MCP_STATE_SECRET  the replicas' shared secret, at least 32 bytes (default:
#                     a random one for this run)
#   RUN_DIR           where logs, the nginx config and its temp files go
#                     (default: a new directory under /tmp, kept afterwards)
# Other variables (RUST_LOG, MCP_ALLOWED_HOSTS, OAuth settings...) reach the
# replicas unchanged. Needs Debian's redis-server and nginx; installs nothing.

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
example=${1:-conformance}
replicas=${REPLICAS:-3}
nginx_port=${NGINX_PORT:-8080}
redis_port=${REDIS_PORT:-6390}
first_port=${FIRST_PORT:-3001}

# --- What is needed and missing.
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
nginx_bin=$(command -v nginx || true)
if [[ -z $nginx_bin && -x /usr/sbin/nginx ]]; then
    nginx_bin=/usr/sbin/nginx # not on a non-root user's PATH
fi
[[ -n $nginx_bin ]] || missing+=(nginx)
if ((${#missing[@]} > 0)); then
    echo "missing: ${missing[*]}; install Debian's packages with" >&2
    echo "  apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
fi
if ! [[ $replicas =~ ^[1-9][0-9]*$ ]]; then
    echo "REPLICAS must be a positive number, got '$replicas'" >&2
    exit 1
fi

# --- The server binary.
if [[ $example == */* ]]; then
    binary=$example
    [[ -x $binary ]] || { echo "$binary is not an executable" >&2; exit 1; }
else
    echo "== cargo build --release --example $example"
    (cd "$root" && cargo build --release --example "$example")
    binary=${CARGO_TARGET_DIR:-$root/target}/release/examples/$example
fi

secret=${MCP_STATE_SECRET:-}
if [[ -z $secret ]]; then
    secret=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n') # 64 hex characters
    echo "MCP_STATE_SECRET not set: using a random one for this run"
fi
if ((${#secret} < 32)); then
    echo "MCP_STATE_SECRET must be at least 32 bytes" >&2
    exit 1
fi

run_dir=${RUN_DIR:-$(mktemp -d /tmp/mcp-replicas.XXXXXX)}
mkdir -p "$run_dir"
# nginx's workers run as `nobody` when it is started as root: they must be
# able to reach their temp directories inside.
chmod 755 "$run_dir"

# --- Stopping everything started here, whatever way the script ends.
# Each child gets a process group of its own (job control), so Ctrl-C reaches
# this script alone, and it stops them in order: nginx, the replicas (SIGTERM:
# they finish in-flight requests), Redis last.
set -m
pids=()
names=()
# shellcheck disable=SC2317 # run by the EXIT trap
stop_all() {
    local i
    ((${#pids[@]} > 0)) || return 0
    echo
    echo "== stopping (logs stay in $run_dir)"
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null || true
        wait "${pids[i]}" 2>/dev/null || true
    done
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME COMMAND...: runs COMMAND in the background, output to NAME.log.
start() {
    local name=$1
    shift
    "$@" >"$run_dir/$name.log" 2>&1 &
    pids+=("$!")
    names+=("$name")
}

# wait_for NAME PORT: until NAME (started last under that name) accepts
# connections on PORT; exits with its log if it ends first or takes 20 s.
wait_for() {
    local name=$1 port=$2 pid="" i
    for i in "${!names[@]}"; do
        [[ ${names[i]} != "$name" ]] || pid=${pids[i]}
    done
    for _ in $(seq 200); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "$name exited before listening on port $port; its log:" >&2
            cat "$run_dir/$name.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "$name did not listen on port $port within 20 s; its log:" >&2
    cat "$run_dir/$name.log" >&2
    exit 1
}

# --- Redis: in memory only, nothing saved to disk.
start redis redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no
wait_for redis "$redis_port"
exec 3<>"/dev/tcp/127.0.0.1/$redis_port"
printf 'PING\r\n' >&3
read -r -t 5 pong <&3 || pong=
exec 3<&-
if [[ $pong != +PONG* ]]; then
    echo "Redis on port $redis_port did not answer PING (got '$pong'); its log:" >&2
    cat "$run_dir/redis.log" >&2
    exit 1
fi
redis_url="redis://127.0.0.1:$redis_port/0"
public_url="http://127.0.0.1:$nginx_port"

# --- The replicas: same store, same secret, same public URL.
upstreams=""
for ((i = 0; i < replicas; i++)); do
    port=$((first_port + i))
    HOST=127.0.0.1 PORT=$port MCP_REDIS_URL=$redis_url MCP_STATE_SECRET=$secret \
        MCP_URL=$public_url MCP_TRUSTED_PROXIES=127.0.0.1 start "replica-$i" "$binary"
    upstreams+="        server 127.0.0.1:$port;"$'\n'
done
for ((i = 0; i < replicas; i++)); do
    wait_for "replica-$i" $((first_port + i))
done

# --- nginx, from the template.
conf=$(<"$root/deploy/nginx.conf")
conf=${conf//@PREFIX@/$run_dir}
conf=${conf//@LISTEN_PORT@/$nginx_port}
conf=${conf//@UPSTREAMS@/${upstreams%$'\n'}}
printf '%s\n' "$conf" >"$run_dir/nginx.conf"
start nginx "$nginx_bin" -p "$run_dir" -e "$run_dir/error.log" -c "$run_dir/nginx.conf"
wait_for nginx "$nginx_port"

cat <<EOF

$replicas replicas of $(basename "$binary") on ports $first_port-$((first_port + replicas - 1)), Redis on $redis_port.
Balancer: $public_url/mcp
Logs: $run_dir (access.log shows which replica served each request)
Ctrl-C stops everything.
EOF

# Until Ctrl-C, or until one of them exits on its own.
set +e
wait -n -p gone "${pids[@]}"
status=$?
set -e
for i in "${!pids[@]}"; do
    if [[ ${pids[i]} == "${gone:-}" ]]; then
        echo "${names[i]} exited (status $status); the end of its log:" >&2
        tail -n 20 "$run_dir/${names[i]}.log" >&2
    fi
done
exit 1
