#!/usr/bin/env bash
# scale.sh: what a large archive costs. Imports STORIES stories (100,000 by default) into a
# demo site and reports the import rate, the server's memory while a crawler walks all of
# them, sitemaps and feeds of the whole site, and a cache miss on the oldest stories against
# one on the newest.
#
# What it measures
#   1. Generates the archive with bench/archive.py, PER_FILE stories a file (`newsdesk
#      import` reads files of at most 64 MiB), loads the demo edition, and imports the files
#      one by one under /usr/bin/time -v: items a second per file (does the rate fall as
#      the archive grows?) and each import's peak memory.
#   2. Starts `newsdesk serve --demo` with its default page cache (by bytes and by entries)
#      and times its start; fetches the sitemap index, the news sitemap, the newest and
#      the oldest month's sitemap, the sections, tags and authors sitemaps, the home page,
#      /latest and the feeds, first as a miss, then HITS more times (median of the hits).
#   3. Walks every story once with wrk (CONNECTIONS connections, gzip) and reads the
#      server's resident memory (VmRSS, and the peak VmHWM) and the cache's entries and
#      bytes from /metrics: memory stays bounded by cache.max_bytes, however large the
#      archive.
#   4. Restarts the server with a one-page cache, fetches each address of step 2 once more (a
#      miss on a warm server, as after a purge), and walks the WALK newest stories, then the
#      WALK oldest, ROUNDS times in turn, DURATION seconds each (`Accept-Encoding: br,
#      gzip`): a miss on a story from years ago should cost what a miss on today's costs.
#   Prints a Markdown summary and saves it as bench/results/scale-<UTC timestamp>.md. wrk
#   and the server share the machine's cores. It exits non-zero only when the setup fails.
#
# How to run (Debian/Ubuntu; as root so missing packages can be installed):
#   bench/scale.sh
#   STORIES=20000 DURATION=5 bench/scale.sh
#   KEEP_DATA=/tmp/scale bench/scale.sh    # keep the imported site for the next run
#
# Environment
#   NEWSDESK_BIN  binary to test (default: <repo>/target/release/newsdesk, built if missing)
#   STORIES       stories in the archive (default 100000); WORDS their length (default 600)
#   PER_FILE      stories per import file (default 10000)
#   HITS          cached fetches per address in step 2 (default 5)
#   WALK          stories in each of the newest and oldest walks (default 2000)
#   DURATION      seconds per wrk run in step 4 (default 10); ROUNDS (default 2)
#   CONNECTIONS   wrk connections (default 32); wrk uses 2 threads
#   KEEP_DATA     a directory for the data directory (a kept one with the archive in it is
#                 reused and the import skipped)
#   RESULTS_DIR   where to save the Markdown (default <repo>/bench/results)
#
# Needs wrk, curl, python3 and GNU time. Missing ones are installed with apt-get.
set -euo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

STORIES=${STORIES:-100000}
WORDS=${WORDS:-600}
PER_FILE=${PER_FILE:-10000}
HITS=${HITS:-5}
WALK=${WALK:-2000}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-2}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=2
BENCH_NAME=scale
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$script_dir/.." && pwd)
# shellcheck source=bench/lib.sh
source "$script_dir/lib.sh"

for v in STORIES WORDS PER_FILE HITS WALK DURATION ROUNDS CONNECTIONS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
((WALK <= STORIES)) || die "WALK ($WALK) must not exceed STORIES ($STORIES)"
((CONNECTIONS >= THREADS)) || die "CONNECTIONS must be at least $THREADS"

bench_need wrk curl python3 /usr/bin/time:time
bin=$(bench_binary)
config=$repo/crates/core/config/demo.toml

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scale.XXXXXX")
serve_pid=""
stop_server() { bench_stop "$serve_pid"; serve_pid=""; }
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

# start_server [ENV=VALUE...]: starts the demo server on a free port and waits for /healthz;
# sets start_seconds to how long that took.
start_server() {
	port=$(bench_free_port)
	base="http://127.0.0.1:$port"
	local started
	started=$(date +%s.%N)
	env NEWSDESK_LOG=warn NEWSDESK_SERVER__MAX_CONNECTIONS_PER_ADDRESS=0 "$@" \
		"$bin" serve --demo --data-dir "$data" --config "$config" --listen "127.0.0.1:$port" \
		>>"$tmp/serve.log" 2>&1 &
	serve_pid=$!
	bench_wait_healthy "$base" "$serve_pid" 600 || die "the server did not answer $base/healthz"
	start_seconds=$(echo "$(date +%s.%N) - $started" | bc)
}
metric() { bench_metric "$base" "$1"; }
status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# --- 1. the archive and its import ---------------------------------------------------------------
data=${KEEP_DATA:-$tmp/data}
mkdir -p "$data"
import_rows=""
if [[ -f $data/scale-urls.txt && $(wc -l <"$data/scale-urls.txt") -eq $STORIES ]]; then
	log "reusing the archive already imported in $data"
	import_rows=$(cat "$data/scale-import.md")
else
	log "generating $STORIES stories of about $WORDS words, $PER_FILE a file"
	python3 "$script_dir/archive.py" "$tmp/archive.json" "$tmp/urls.txt" "$STORIES" "$WORDS" 16 "$PER_FILE" >&2
	log "loading the demo edition"
	start_server
	stop_server
	imported=0
	total_started=$SECONDS
	for file in "$tmp"/archive*.json; do
		count=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["items"]))' "$file")
		/usr/bin/time -v -o "$tmp/time.txt" "$bin" import --data-dir "$data" --config "$config" "$file" \
			>"$tmp/import.log" 2>&1 || { cat "$tmp/import.log" "$tmp/time.txt" >&2; die "import of $file failed"; }
		seconds=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$tmp/time.txt")
		rss_mib=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$tmp/time.txt")
		rate=$(echo "$count / $seconds" | bc)
		imported=$((imported + count))
		log "  $(basename "$file"): $count stories in $seconds s ($rate a second), peak $rss_mib MiB; $imported in all"
		import_rows+="| $(basename "$file") | $((imported - count)) | $count | $seconds | $rate | $rss_mib |"$'\n'
	done
	log "imported $imported stories in $((SECONDS - total_started)) s"
	cp "$tmp/urls.txt" "$data/scale-urls.txt"
	printf '%s' "$import_rows" >"$data/scale-import.md"
	rm -f "$tmp"/archive*.json
fi
urls=$data/scale-urls.txt

# --- 2. sitemaps, feeds and fronts -----------------------------------------------------------------
log "starting the server with its default page cache"
start_server
first_start=$start_seconds
log "server up at $base in $first_start s (pid $serve_pid)"

curl -fsS --max-time 60 "$base/sitemap.xml" -o "$tmp/sitemap.xml" || die "GET /sitemap.xml failed"
mapfile -t months < <(grep -o '/sitemap-items-[0-9]\{4\}-[0-9]\{2\}[-0-9]*\.xml' "$tmp/sitemap.xml" | sort -u)
((${#months[@]})) || die "the sitemap index lists no month of items"
addresses=(/sitemap.xml /news-sitemap.xml "${months[-1]}" "${months[0]}" /sitemap-sections.xml
	/sitemap-tags.xml /sitemap-authors.xml / /latest /world /feeds/all.rss /feeds/all.atom
	/feeds/all.json /feeds/section/world.rss)
fetch_rows=""
for path in "${addresses[@]}"; do
	miss=$(curl -sS --max-time 60 -o /dev/null -H 'Accept-Encoding: gzip' \
		-w '%{http_code} %{time_total} %{size_download}' "$base$path") || die "GET $path failed"
	read -r code miss_s bytes <<<"$miss"
	[[ $code == 200 ]] || die "GET $path answered $code"
	hit_ms=()
	for ((h = 0; h < HITS; h++)); do
		hit_ms+=("$(curl -sS --max-time 60 -o /dev/null -H 'Accept-Encoding: gzip' -w '%{time_total}' "$base$path" |
			awk '{ printf "%.2f", $1 * 1000 }')")
	done
	miss_ms=$(awk -v s="$miss_s" 'BEGIN { printf "%.2f", s * 1000 }')
	log "  $path: first $miss_ms ms, then $(bench_median "${hit_ms[@]}") ms ($bytes bytes gzip)"
	fetch_rows+="| \`$path\` | $bytes | $miss_ms | $(bench_median "${hit_ms[@]}") |"$'\n'
done
month_count=${#months[@]}

# --- 3. memory while a crawler walks everything ------------------------------------------------------
rss_start=$(status_kib "$serve_pid" VmRSS)
bench_walk_script "$tmp/walk-all.lua" "$urls" $THREADS
walk_seconds=$((STORIES / 500 + 10))
log "walking all $STORIES stories (${walk_seconds} s, $CONNECTIONS connections)"
wrk -t$THREADS -c"$CONNECTIONS" -d"${walk_seconds}s" --latency -s "$tmp/walk-all.lua" \
	-H 'Accept-Encoding: gzip' "$base" >"$tmp/wrk-all.txt" 2>&1 || { cat "$tmp/wrk-all.txt" >&2; die "wrk failed"; }
walked=$(awk '/requests in/ { print $1 }' "$tmp/wrk-all.txt")
walk_rps=$(awk '$1 == "Requests/sec:" { print $2 }' "$tmp/wrk-all.txt")
walk_errors=$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' "$tmp/wrk-all.txt")
rss_end=$(status_kib "$serve_pid" VmRSS)
rss_peak=$(status_kib "$serve_pid" VmHWM)
cache_entries=$(metric newsdesk_page_cache_entries)
cache_bytes=$(metric newsdesk_page_cache_bytes)
cache_max=$(awk -F" *= *" "/^max_bytes/ { print \$2 }" "$config" | head -n 1)
log "  $walked requests ($walk_rps a second, non-2xx/3xx: ${walk_errors:-0}); RSS $((rss_start / 1024)) → $((rss_end / 1024)) MiB, peak $((rss_peak / 1024)) MiB; cache $cache_entries entries, $cache_bytes bytes"
stop_server

# --- 4. the oldest against the newest ----------------------------------------------------------------
head -n "$WALK" "$urls" >"$tmp/newest.txt"
tail -n "$WALK" "$urls" >"$tmp/oldest.txt"
bench_walk_script "$tmp/walk-newest.lua" "$tmp/newest.txt" $THREADS
bench_walk_script "$tmp/walk-oldest.lua" "$tmp/oldest.txt" $THREADS
log "restarting the server with a one-page cache"
start_server NEWSDESK_CACHE__MAX_ENTRIES=1
second_start=$start_seconds
log "server up in $second_start s"
for path in "$(head -n 1 "$tmp/oldest.txt")" "$(tail -n 1 "$tmp/oldest.txt")"; do
	code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$base$path")
	[[ $code == 200 ]] || die "GET $path answered $code"
done
# With one page kept, each address fetched after another renders again: a miss on a warm
# server, what a reader pays after a publish or a comment purged the page.
declare -A warm_miss
for path in "${addresses[@]}"; do
	curl -sS --max-time 60 -o /dev/null "$base/healthz" || die "the server stopped answering"
	warm_miss[$path]=$(curl -sS --max-time 60 -o /dev/null -H 'Accept-Encoding: gzip' -w '%{time_total}' "$base$path" |
		awk '{ printf "%.2f", $1 * 1000 }')
	log "  $path: a warm miss in ${warm_miss[$path]} ms"
done
declare -A rps p50 p99 errs
walk_rows=""
for ((r = 1; r <= ROUNDS; r++)); do
	for which in newest oldest; do
		out=$tmp/wrk-$which-$r.txt
		wrk -t$THREADS -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$tmp/walk-$which.lua" \
			-H 'Accept-Encoding: br, gzip' "$base" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed"; }
		rps[$which,$r]=$(awk '$1 == "Requests/sec:" { print $2 }' "$out")
		p50[$which,$r]=$(bench_latency_ms 50% "$out")
		p99[$which,$r]=$(bench_latency_ms 99% "$out")
		errs[$which,$r]=$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' "$out")
		log "  $which round $r: ${rps[$which,$r]} pages/s, p50 ${p50[$which,$r]} ms, p99 ${p99[$which,$r]} ms"
		walk_rows+="| $which | $r | ${rps[$which,$r]} | ${p50[$which,$r]} | ${p99[$which,$r]} | ${errs[$which,$r]:-0} |"$'\n'
	done
done
stop_server

# --- report --------------------------------------------------------------------------------------------
git_rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || true)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
summary() {
	echo "# A large archive: $STORIES stories"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(bench_machine)"
	echo "- newsdesk: \`$bin\`${git_rev:+, repo at $git_rev}; \`serve --demo\` with \`$(basename "$config")\`, NEWSDESK_LOG=warn"
	echo "- Archive: $STORIES generated stories of about $WORDS words (bench/archive.py, one every 97 minutes back from now, $month_count months of sitemaps) plus the demo edition"
	echo
	echo "Import, $PER_FILE stories a file (\`newsdesk import\` under \`/usr/bin/time -v\`):"
	echo
	echo "| File | Stories before | Stories | Seconds | Stories/s | Peak RSS MiB |"
	echo "|---|---:|---:|---:|---:|---:|"
	printf '%s' "$import_rows"
	echo
	echo "Server start on the imported site: $first_start s the first time (the search index takes in the imported stories before the server answers), $second_start s the next. Sitemaps, feeds and fronts (gzip; the first fetch renders on a server just started, then the median of $HITS cached fetches, and a render on the warm server of step 4):"
	echo
	echo "| Address | Bytes | First ms | Cached ms | Warm miss ms |"
	echo "|---|---:|---:|---:|---:|"
	printf '%s' "$fetch_rows" | while IFS= read -r row; do
		path=$(awk -F'`' '{ print $2 }' <<<"$row")
		echo "$row ${warm_miss[$path]} |"
	done
	echo
	echo "Memory while \`wrk -t$THREADS -c$CONNECTIONS -d${walk_seconds}s\` walked every story with the default cache (cache.max_bytes ${cache_max:-256 MiB, the default}): $walked requests at $walk_rps a second (non-2xx/3xx: ${walk_errors:-0}); server RSS $((rss_start / 1024)) MiB before, $((rss_end / 1024)) MiB after, peak $((rss_peak / 1024)) MiB; the cache held $cache_entries pages in $cache_bytes bytes."
	echo
	echo "A miss on the $WALK newest against the $WALK oldest stories (one-page cache, \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s\`, \`Accept-Encoding: br, gzip\`):"
	echo
	echo "| Walk | Round | pages/s | p50 ms | p99 ms | non-2xx/3xx |"
	echo "|---|---:|---:|---:|---:|---:|"
	printf '%s' "$walk_rows"
}
mkdir -p "$RESULTS_DIR"
summary | tee "$RESULTS_DIR/scale-$stamp.md"
log "saved $RESULTS_DIR/scale-$stamp.md"
