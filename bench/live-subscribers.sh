#!/usr/bin/env bash
# live-subscribers.sh: what idle live-stream subscribers cost. Starts the release binary with
# the demo edition (SQLite), opens SUBSCRIBERS idle Server-Sent Events connections to
# /api/v1/live with a dependency-free Python asyncio client, and reads the server's VmRSS
# from /proc before and after: bytes per subscriber. Then publishes one item with
# `newsdesk import` and times its arrival on every stream (import start to first and last
# arrival). Prints a Markdown summary and saves it under bench/results/.
#
#   bench/live-subscribers.sh
#   SUBSCRIBERS=5000 SETTLE=10 bench/live-subscribers.sh
#   NEWSDESK_BIN=/path/to/newsdesk bench/live-subscribers.sh
#
# Needs python3. The binary defaults to $CARGO_TARGET_DIR/release/newsdesk (built with
# `cargo build --release --locked -p newsdesk` when missing).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SUBSCRIBERS=${SUBSCRIBERS:-1000}
SETTLE=${SETTLE:-5}
results=${RESULTS_DIR:-$root/bench/results}
bin=${NEWSDESK_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/newsdesk}
if [[ ! -x "$bin" ]]; then
  (cd "$root" && cargo build --release --locked -p newsdesk)
fi
# Each subscriber is a socket on both ends.
ulimit -n $((SUBSCRIBERS * 2 + 256))

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Every subscriber comes from 127.0.0.1: lift the per-address caps on connections and streams.
NEWSDESK_LOG=warn NEWSDESK_LIVE__MAX_SUBSCRIBERS=$((SUBSCRIBERS + 10)) \
  NEWSDESK_LIVE__MAX_PER_ADDRESS=$((SUBSCRIBERS + 10)) NEWSDESK_SERVER__MAX_CONNECTIONS_PER_ADDRESS=0 \
  "$bin" serve --demo --data-dir "$work/data" --listen 127.0.0.1:0 >"$work/stdout" 2>"$work/stderr" &
server_pid=$!
for _ in $(seq 1 300); do
  grep -q '^listening on ' "$work/stdout" 2>/dev/null && break
  sleep 0.1
done
base=$(sed -n 's/^listening on //p' "$work/stdout" | head -n1)
[[ -n "$base" ]] || { cat "$work/stderr" >&2; echo "the server did not start" >&2; exit 1; }

cat >"$work/item.toml" <<'TOML'
[[items]]
kind = "brief"
section = "world"
slug = "bench-live-fan-out"
body = "One brief, published to every idle subscriber at once."
status = "published"
TOML

out=$(python3 "$root/bench/live-subscribers.py" "$base" "$server_pid" "$SUBSCRIBERS" "$SETTLE" -- \
  env NEWSDESK_LOG=warn "$bin" import --data-dir "$work/data" "$work/item.toml" 2>&1) || {
  echo "$out" >&2; exit 1; }
val() { awk -v k="$1" '$1 == k { print $2 }' <<<"$out"; }

kill -TERM "$server_pid"
started_stop=$(date +%s.%N)
wait "$server_pid" && status=0 || status=$?
stop_seconds=$(awk -v a="$started_stop" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
server_pid=""

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
summary=$(cat <<MD
## Live stream: ${SUBSCRIBERS} idle subscribers
- **Command**: \`bench/live-subscribers.sh\` (SUBSCRIBERS=${SUBSCRIBERS}, SETTLE=${SETTLE} s)
- **Machine**: $(nproc) CPUs ($cpu), $(uname -sr); $(date -u +%Y-%m-%d)
- Streams open: $(val gauge) (\`newsdesk_live_subscribers\`), opened in $(val open_seconds) s
- Server RSS: $(val rss_before_kib) KiB before, $(val rss_open_kib) KiB with the streams open, $(val rss_closed_kib) KiB after they closed
- **Memory per idle subscriber: $(val bytes_per_subscriber) bytes**
- One brief published (\`newsdesk import\`, $(val import_seconds) s as a process): received by $(val received) of ${SUBSCRIBERS}; first $(val first_after_import_ms) ms and last $(val last_after_import_ms) ms after the import ended (spread $(val spread_ms) ms)
- SIGTERM with the streams closed: exit status ${status} after ${stop_seconds} s
MD
)
mkdir -p "$results"
file="$results/live-subscribers-$(date -u +%Y%m%dT%H%M%SZ).md"
echo "$summary" | tee "$file"
echo "saved $file" >&2
