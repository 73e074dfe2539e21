#!/usr/bin/env bash
# miss.sh: how many story pages a second `newsdesk serve` renders when none of them is in
# the page cache (a "miss": after an edit, a comment, or a crawler's visit).
#
# What it measures
#   1. Generates an invented archive with bench/archive.py (STORIES stories of about WORDS
#      words across the demo's sections) and the list of their addresses.
#   2. Starts `newsdesk serve --demo` once on a fresh data directory so the demo edition
#      loads, stops it, imports the archive with `newsdesk import`, and starts the server
#      again with a page cache of one entry (NEWSDESK_CACHE__MAX_ENTRIES=1), so a walk of the
#      archive never finds its page cached, and without the per-address connection cap
#      (NEWSDESK_SERVER__MAX_CONNECTIONS_PER_ADDRESS=0).
#   3. Checks a sample of the addresses answers 200 (and the encoding asked for).
#   4. Walks every story address in turn with wrk (a Lua script: each thread cycles through
#      its own share of the list) for DURATION seconds with CONNECTIONS connections, ROUNDS
#      times with `Accept-Encoding: br, gzip` as browsers send, then ROUNDS times with gzip
#      only, then ROUNDS times with one connection (the latency of one miss alone).
#   5. Reads the cache's hit and miss counters from /metrics to show the walk missed, and
#      prints a Markdown summary (pages/s, p50, p99, non-2xx/3xx and socket errors per run,
#      medians) to stdout and saves it as bench/results/miss-<UTC timestamp>.md.
#   wrk and the server share the machine's cores; numbers are noisy when other work runs,
#   hence the rounds and the medians. It exits non-zero only when the setup fails.
#
# How to run (Debian/Ubuntu; as root so missing packages can be installed):
#   bench/miss.sh
#   DURATION=5 ROUNDS=1 bench/miss.sh
#   NEWSDESK_BIN=/path/to/newsdesk bench/miss.sh
#
# Environment
#   NEWSDESK_BIN  binary to test (default: <repo>/target/release/newsdesk, built with
#                 `cargo build --release --locked -p newsdesk` if missing)
#   STORIES       stories in the archive (default 2000); WORDS their length (default 600)
#   DURATION      seconds per wrk run (default 10); ROUNDS runs per setting (default 3)
#   CONNECTIONS   wrk connections for the walks (default 32); wrk uses 2 threads
#   KEEP_DATA     a directory to keep the data directory in for a later run (optional; a
#                 kept directory with the archive in it is reused, skipping the import)
#   RESULTS_DIR   where to save the Markdown (default <repo>/bench/results)
#
# Needs wrk, curl, python3. Missing ones are installed with apt-get.
set -euo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

STORIES=${STORIES:-2000}
WORDS=${WORDS:-600}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=2
BENCH_NAME=miss
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$script_dir/.." && pwd)
# shellcheck source=bench/lib.sh
source "$script_dir/lib.sh"

for v in STORIES WORDS DURATION ROUNDS CONNECTIONS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
((CONNECTIONS >= THREADS)) || die "CONNECTIONS must be at least $THREADS"

# --- tools ----------------------------------------------------------------------------
bench_need wrk curl python3
bin=$(bench_binary)

# --- state for the cleanup trap ---------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/miss.XXXXXX")
serve_pid=""
stop_server() {
	[[ -n $serve_pid ]] || return 0
	kill -TERM "$serve_pid" 2>/dev/null || true
	for _ in $(seq 150); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$serve_pid" 2>/dev/null || true
	wait "$serve_pid" 2>/dev/null || true
	serve_pid=""
}
cleanup() {
	local rc=$?
	set +e
	stop_server
	if ((rc != 0)) && [[ -s $tmp/serve.log ]]; then
		log "last lines of the server log:"
		tail -n 20 "$tmp/serve.log" >&2
	fi
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_server [ENV=VALUE...]: starts the demo server on a free port, waits for /healthz.
start_server() {
	port=$(bench_free_port)
	base="http://127.0.0.1:$port"
	env NEWSDESK_LOG=warn "$@" "$bin" serve --demo --data-dir "$data" --listen "127.0.0.1:$port" \
		>>"$tmp/serve.log" 2>&1 &
	serve_pid=$!
	local deadline=$((SECONDS + 120))
	until curl -fsS --max-time 5 -o /dev/null "$base/healthz" 2>/dev/null; do
		kill -0 "$serve_pid" 2>/dev/null || { serve_pid=""; die "the server exited before $base/healthz answered"; }
		((SECONDS < deadline)) || die "$base/healthz did not answer within 120 s"
		sleep 0.2
	done
}

# --- 1.-2. the archive and the site ------------------------------------------------------
data=${KEEP_DATA:-$tmp/data}
mkdir -p "$data"
if [[ -f $data/miss-urls.txt && $(wc -l <"$data/miss-urls.txt") -eq $STORIES ]]; then
	log "reusing the archive already imported in $data"
else
	log "generating $STORIES stories of about $WORDS words"
	python3 "$script_dir/archive.py" "$tmp/archive.json" "$tmp/urls.txt" "$STORIES" "$WORDS" >&2
	log "loading the demo edition"
	start_server
	stop_server
	log "importing the archive"
	started=$SECONDS
	"$bin" import --data-dir "$data" --config "$repo/crates/core/config/demo.toml" \
		"$tmp/archive.json" >&2
	log "imported in $((SECONDS - started)) s"
	cp "$tmp/urls.txt" "$data/miss-urls.txt"
fi
urls=$data/miss-urls.txt

log "starting the server with a one-page cache"
start_server NEWSDESK_CACHE__MAX_ENTRIES=1 NEWSDESK_SERVER__MAX_CONNECTIONS_PER_ADDRESS=0
log "server up at $base (pid $serve_pid)"

# --- 3. the addresses answer --------------------------------------------------------------
sample=0
while read -r path; do
	for ae in "br, gzip|br" "gzip|gzip"; do
		code=$(curl -sS --max-time 10 -o "$tmp/page" -D "$tmp/headers" -w '%{http_code}' \
			-H "Accept-Encoding: ${ae%|*}" "$base$path") || die "GET $path failed"
		[[ $code == 200 ]] || die "GET $path answered $code, not 200"
		grep -qi "^content-encoding: *${ae#*|}" "$tmp/headers" || die "GET $path was not ${ae#*|}-encoded"
	done
	sample=$((sample + 1))
done < <(awk -v n="$STORIES" 'NR % int(n / 20 + 1) == 1' "$urls")
page_bytes=$(curl -fsS --compressed "$base$(head -n 1 "$urls")" | wc -c)
br_bytes=$(curl -fsS -H 'Accept-Encoding: br' "$base$(head -n 1 "$urls")" | wc -c)
gz_bytes=$(curl -fsS -H 'Accept-Encoding: gzip' "$base$(head -n 1 "$urls")" | wc -c)
log "$sample sampled addresses answer 200; a page is $page_bytes bytes ($br_bytes br, $gz_bytes gzip)"

# --- 4. the walks ---------------------------------------------------------------------------
bench_walk_script "$tmp/walk.lua" "$urls" $THREADS

metric() { bench_metric "$base" "$1"; }

# run NAME THREADS CONNECTIONS ACCEPT-ENCODING
declare -A rps p50 p99 errs
raw=""
run() {
	local name=$1 t=$2 c=$3 ae=$4 out r
	for ((r = 1; r <= ROUNDS; r++)); do
		out="$tmp/wrk-$name-$r.txt"
		log "$name round $r/$ROUNDS (${DURATION}s, $c connections, Accept-Encoding: $ae)"
		wrk -t"$t" -c"$c" -d"${DURATION}s" --latency -s "$tmp/walk.lua" \
			-H "Accept-Encoding: $ae" "$base" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed"; }
		rps[$name,$r]=$(awk '$1 == "Requests/sec:" { print $2 }' "$out")
		p50[$name,$r]=$(latency_ms 50% "$out")
		p99[$name,$r]=$(latency_ms 99% "$out")
		errs[$name,$r]="$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' "$out")"
		errs[$name,$r]="${errs[$name,$r]:-0}$(grep -o 'Socket errors:.*' "$out" | sed 's/^/; /' || true)"
		[[ -n ${rps[$name,$r]} ]] || { cat "$out" >&2; die "could not read wrk's output"; }
		log "  ${rps[$name,$r]} pages/s, p50 ${p50[$name,$r]} ms, p99 ${p99[$name,$r]} ms, non-2xx/3xx: ${errs[$name,$r]}"
		raw+=$'\n'"#### $name, round $r"$'\n\n```\n'"$(cat "$out")"$'\n```\n'
	done
}

latency_ms() { bench_latency_ms "$@"; }
median() { bench_median "$@"; }

log "warm-up 2 s"
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s "$tmp/walk.lua" -H 'Accept-Encoding: br, gzip' "$base" >/dev/null 2>&1
hits0=$(metric newsdesk_page_cache_hits_total)
misses0=$(metric newsdesk_page_cache_misses_total)
run br-gzip "$THREADS" "$CONNECTIONS" "br, gzip"
run gzip "$THREADS" "$CONNECTIONS" "gzip"
run single 1 1 "br, gzip"
hits1=$(metric newsdesk_page_cache_hits_total)
misses1=$(metric newsdesk_page_cache_misses_total)
stop_server

# --- 5. report --------------------------------------------------------------------------------
cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
git_rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || true)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
summary() {
	echo "# Cache miss: story pages rendered per second"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) CPUs (nproc), ${cpu_model:-unknown CPU}, $(uname -sr)"
	echo "- newsdesk: \`$bin\`${git_rev:+, repo at $git_rev}; \`serve --demo\`, NEWSDESK_LOG=warn, NEWSDESK_CACHE__MAX_ENTRIES=1, NEWSDESK_SERVER__MAX_CONNECTIONS_PER_ADDRESS=0"
	echo "- Archive: $STORIES generated stories of about $WORDS words (bench/archive.py) plus the demo edition; a page is $page_bytes bytes ($br_bytes br, $gz_bytes gzip)"
	echo "- Load: \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency\` walking every story address in turn, $ROUNDS rounds per setting; single: \`wrk -t1 -c1\`; wrk and the server share the cores"
	if [[ -n $hits0 && -n $hits1 ]]; then
		echo "- Page cache during the runs: $((hits1 - hits0)) hits, $((misses1 - misses0)) misses"
	fi
	echo
	echo "| Run | Round | pages/s | p50 ms | p99 ms | non-2xx/3xx |"
	echo "|---|---:|---:|---:|---:|---|"
	for name in br-gzip gzip single; do
		for ((r = 1; r <= ROUNDS; r++)); do
			echo "| $name | $r | ${rps[$name,$r]} | ${p50[$name,$r]} | ${p99[$name,$r]} | ${errs[$name,$r]} |"
		done
	done
	echo
	echo "| Run (median of $ROUNDS) | pages/s | p50 ms | p99 ms |"
	echo "|---|---:|---:|---:|"
	for name in br-gzip gzip single; do
		local a=() b=() c=() r
		for ((r = 1; r <= ROUNDS; r++)); do
			a+=("${rps[$name,$r]}"); b+=("${p50[$name,$r]}"); c+=("${p99[$name,$r]}")
		done
		echo "| $name | $(median "${a[@]}") | $(median "${b[@]}") | $(median "${c[@]}") |"
	done
}
mkdir -p "$RESULTS_DIR"
result_file="$RESULTS_DIR/miss-$stamp.md"
summary
{
	summary
	echo
	echo "<details><summary>raw wrk output</summary>"
	echo "$raw"
	echo "</details>"
} >"$result_file"
log "saved $result_file"
