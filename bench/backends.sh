#!/usr/bin/env bash
# backends.sh: the cached story page served from a SQLite site against the same site on
# PostgreSQL, and two PostgreSQL instances behind nginx (round robin) against one instance
# behind the same nginx. wrk, nginx and every instance share the machine's cores.
#
#   cargo build --release --locked && bench/backends.sh
#   DURATION=10 ROUNDS=3 CONNECTIONS=64 bench/backends.sh
#
# Needs wrk, nginx, psql and a PostgreSQL at PG_URL (default
# postgres://postgres@127.0.0.1:5432/postgres); a database of its own is created and dropped.
# Prints a Markdown summary and saves it under bench/results/.
set -euo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${NEWSDESK_BIN:-$root/target/release/newsdesk}
results=${RESULTS_DIR:-$root/bench/results}
log() { echo "[backends] $*" >&2; }

for tool in wrk nginx psql curl; do
  command -v "$tool" >/dev/null || { log "installing $tool"; apt-get install -y -qq "${tool/nginx/nginx-light}" >/dev/null; }
done
[[ -x $bin ]] || (cd "$root" && cargo build --release --locked -p newsdesk)

tmp=$(mktemp -d)
db="newsdesk_bench_$$"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [[ -f $tmp/nginx.pid ]] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
  sleep 0.5
  psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
psql "$PG_URL" -qc "CREATE DATABASE $db" >/dev/null
pg_db="${PG_URL%/*}/$db"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start NAME PORT ARGS...: starts newsdesk and waits for /healthz.
start() {
  local name=$1 port=$2; shift 2
  NEWSDESK_LOG=warn "$bin" serve --listen "127.0.0.1:$port" --data-dir "$tmp/$name" "$@" \
    >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  log "$name did not start"; cat "$tmp/$name.err" >&2; exit 1
}

sqlite_port=$(free_port); pg_a=$(free_port); pg_b=$(free_port); lb_one=$(free_port); lb_two=$(free_port)
start sqlite "$sqlite_port" --demo
start pg-a "$pg_a" --demo --database-url "$pg_db"
start pg-b "$pg_b" --demo --database-url "$pg_db"
page=$(curl -fs "http://127.0.0.1:$sqlite_port/" | grep -o 'class="top-headline"><a href="/[a-z0-9/-]*"' | head -1 | sed 's/.*href="//; s/"$//')
[[ -n $page ]] || { log "no top story"; exit 1; }
log "page: $page"

mkdir -p "$tmp/nginx"
cat >"$tmp/nginx.conf" <<CONF
worker_processes 2;
pid $tmp/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx; proxy_temp_path $tmp/nginx; fastcgi_temp_path $tmp/nginx;
  uwsgi_temp_path $tmp/nginx; scgi_temp_path $tmp/nginx;
  upstream one { server 127.0.0.1:$pg_a; keepalive 64; }
  upstream two { server 127.0.0.1:$pg_a; server 127.0.0.1:$pg_b; keepalive 64; }
  server { listen 127.0.0.1:$lb_one; location / { proxy_pass http://one; proxy_http_version 1.1; proxy_set_header Connection ""; } }
  server { listen 127.0.0.1:$lb_two; location / { proxy_pass http://two; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
CONF
nginx -c "$tmp/nginx.conf"
sleep 0.5

# measure URL: prints "req/s p99ms"
measure() {
  local out rps p99
  out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H 'Accept-Encoding: gzip' "$1")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /us$/) {sub("us","",v); v=v/1000} else if (v ~ /s$/) {sub("s","",v); v=v*1000}; print v}' <<<"$out")
  echo "$rps $p99"
}
for url in "http://127.0.0.1:$sqlite_port$page" "http://127.0.0.1:$pg_a$page" "http://127.0.0.1:$lb_one$page" "http://127.0.0.1:$lb_two$page"; do
  wrk -t2 -c"$CONNECTIONS" -d2s "$url" >/dev/null
done

declare -A rows
for round in $(seq "$ROUNDS"); do
  for target in sqlite pg one two; do
    case $target in
      sqlite) url="http://127.0.0.1:$sqlite_port$page" ;;
      pg) url="http://127.0.0.1:$pg_a$page" ;;
      one) url="http://127.0.0.1:$lb_one$page" ;;
      two) url="http://127.0.0.1:$lb_two$page" ;;
    esac
    result=$(measure "$url")
    log "round $round $target: $result"
    rows[$target]+="$result"$'\n'
  done
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
med() { awk '{print $1}' <<<"${rows[$1]}" | grep . | median; }
medp() { awk '{print $2}' <<<"${rows[$1]}" | grep . | median; }
ts=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$results"
{
  echo "# Backends and instances, cached story page"
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) CPUs, $(uname -sr); repo at $(git -C "$root" rev-parse --short HEAD)"
  echo "- Page: \`$page\`; load: \`wrk -t2 -c$CONNECTIONS -d${DURATION}s --latency -H 'Accept-Encoding: gzip'\`, $ROUNDS rounds alternated, 2 s warm-up"
  echo
  echo "| setup | median req/s | median p99 ms |"
  echo "|---|---:|---:|"
  echo "| newsdesk on SQLite, direct | $(med sqlite) | $(medp sqlite) |"
  echo "| newsdesk on PostgreSQL, direct | $(med pg) | $(medp pg) |"
  echo "| nginx → one PostgreSQL instance | $(med one) | $(medp one) |"
  echo "| nginx → two PostgreSQL instances | $(med two) | $(medp two) |"
  echo
  echo "- PostgreSQL/SQLite: $(awk -v a="$(med pg)" -v b="$(med sqlite)" 'BEGIN {printf "%.2f", a/b}')"
  echo "- two instances/one instance (behind nginx): $(awk -v a="$(med two)" -v b="$(med one)" 'BEGIN {printf "%.2f", a/b}')"
} | tee "$results/backends-$ts.md"
