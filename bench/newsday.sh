#!/usr/bin/env bash
# newsday.sh: a news day in one command. Everything a busy morning does to the site, at once,
# against one `newsdesk serve` (SQLite, or PostgreSQL with --postgres), and what readers get.
#
# What it does
#   1. Generates STORIES invented stories with bench/archive.py, loads the demo edition, imports
#      the archive with `newsdesk import` and adds an editor with `newsdesk user add`.
#   2. Setup (bench/newsday.py setup, on a server of its own): the editor signs into the desk and
#      makes a staff token; COMMENTERS readers sign up through the site's forms (the verification
#      mail is read from the data directory's outbox), confirm, and sign in through the API for
#      reader tokens; the editor publishes the breaking story through the API.
#   3. Starts the server again under GNU time (for its peak RSS) and, after a 2 s warm-up, runs
#      for DURATION seconds, all at once:
#      - readers, keep-alive, one wrk per class: READERS_HOME connections on `/`, READERS_LATEST
#        on `/latest`, READERS_STORY on the breaking story (500 in all by default);
#      - a crawler: wrk with CRAWLER_CONNECTIONS connections walking every archive address;
#      - SUBSCRIBERS idle live-stream subscribers (bench/live-subscribers.py's client), reading;
#      - the editor (bench/newsday.py run): saves the breaking story with a new headline every
#        SAVE_EVERY s and publishes a brief every PUBLISH_EVERY s through the staff API, and after
#        each write polls the story page, the home page, the feed, the API and a live-stream
#        subscriber every 20 ms until the change shows (publish -> visible, from the request's
#        start);
#      - readers commenting on the breaking story, COMMENT_RATE posts a second through the API.
#   4. WordPress: with WP_URL set (a WordPress behind nginx fastcgi_cache), runs the same readers
#      and crawler against it for DURATION seconds more; otherwise says it skipped it.
#   5. Prints a Markdown report (per class: requests a second, p50/p99, errors; publish ->
#      visible p50/p99 per surface; peak RSS) and saves it as
#      bench/results/newsday-<backend>-<UTC>.md.
#   It exits non-zero only when the setup fails; errors under load are reported, not fatal.
#
# How to run (Debian/Ubuntu; as root so missing packages can be installed):
#   bench/newsday.sh
#   DURATION=20 STORIES=500 bench/newsday.sh --postgres
#   NEWSDESK_BIN=/path/to/newsdesk bench/newsday.sh
#
# Environment (defaults in brackets)
#   NEWSDESK_BIN     binary to test [<repo>/target/release/newsdesk, built with cargo if missing]
#   DURATION [60]    seconds of news day; STORIES [2000], WORDS [600]: the archive
#   READERS_HOME [200], READERS_LATEST [100], READERS_STORY [200]: wrk connections per class
#   CRAWLER_CONNECTIONS [4]; SUBSCRIBERS [2000]
#   COMMENT_RATE [5] comments a second; COMMENTERS [20] readers posting them
#   SAVE_EVERY [10], PUBLISH_EVERY [30] seconds between the editor's saves / publications
#   PG_URL [postgres://postgres@127.0.0.1:5432/postgres] with --postgres: a database of its own
#                    is created there and dropped afterwards
#   WP_URL           a WordPress site to compare (http://host:port, no trailing slash); then
#                    WP_STORY_PATH (required), WP_LATEST_PATH [/], WP_ARCHIVE_URLS (a file of
#                    paths for the crawler; without it the crawler is not run against WordPress)
#   RESULTS_DIR      where to save the Markdown [<repo>/bench/results]
#
# Needs wrk, curl, python3 (standard library only), GNU time; psql with --postgres.
set -euo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

BENCH_NAME=newsday
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$script_dir/.." && pwd)
# shellcheck source=bench/lib.sh
source "$script_dir/lib.sh"

backend=sqlite
for arg in "$@"; do
	case $arg in
	--postgres) backend=postgres ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*) die "unknown argument '$arg' (--postgres, --help)" ;;
	esac
done

STORIES=${STORIES:-2000}
WORDS=${WORDS:-600}
DURATION=${DURATION:-60}
READERS_HOME=${READERS_HOME:-200}
READERS_LATEST=${READERS_LATEST:-100}
READERS_STORY=${READERS_STORY:-200}
CRAWLER_CONNECTIONS=${CRAWLER_CONNECTIONS:-4}
SUBSCRIBERS=${SUBSCRIBERS:-2000}
COMMENT_RATE=${COMMENT_RATE:-5}
COMMENTERS=${COMMENTERS:-20}
SAVE_EVERY=${SAVE_EVERY:-10}
PUBLISH_EVERY=${PUBLISH_EVERY:-30}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
WP_URL=${WP_URL:-}
export COMMENT_RATE SAVE_EVERY PUBLISH_EVERY

for v in STORIES WORDS DURATION READERS_HOME READERS_LATEST READERS_STORY CRAWLER_CONNECTIONS \
	SUBSCRIBERS COMMENTERS SAVE_EVERY PUBLISH_EVERY; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
[[ $COMMENT_RATE =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "COMMENT_RATE must be a number, got '$COMMENT_RATE'"
((DURATION >= 10)) || die "DURATION must be at least 10 seconds"
if [[ -n $WP_URL && -z ${WP_STORY_PATH:-} ]]; then
	die "WP_URL is set: WP_STORY_PATH must name the WordPress story the readers read"
fi

# --- tools and limits ----------------------------------------------------------------------------
tools=(wrk curl python3 /usr/bin/time:time)
[[ $backend == postgres ]] && tools+=(psql:postgresql-client)
bench_need "${tools[@]}"
bin=$(bench_binary)

# Every subscriber and reader connection is a socket on both ends (client and server here).
readers_total=$((READERS_HOME + READERS_LATEST + READERS_STORY))
files=$((2 * (SUBSCRIBERS + readers_total + CRAWLER_CONNECTIONS) + 1024))
ulimit -n "$files" 2>/dev/null || die "cannot raise the open-file limit to $files (ulimit -Hn: $(ulimit -Hn))"

# --- state for the cleanup trap ----------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/newsday.XXXXXX")
data=$tmp/data
server_top=""   # the process started (GNU time when measured)
serve_pid=""    # the server itself
background=()   # wrk and client processes of the run
db=""
stop_server() {
	[[ -n $server_top ]] || return 0
	kill -TERM "${serve_pid:-$server_top}" 2>/dev/null || true
	for _ in $(seq 300); do kill -0 "$server_top" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$server_top" 2>/dev/null; then
		log "the server did not exit within 30 s of SIGTERM: killing it"
		kill -KILL "${serve_pid:-$server_top}" 2>/dev/null || true
	fi
	wait "$server_top" 2>/dev/null || true
	server_top=""
	serve_pid=""
}
cleanup() {
	local rc=$?
	set +e
	for pid in "${background[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${background[@]}"; do wait "$pid" 2>/dev/null; done
	stop_server
	if ((rc != 0)) && [[ -s $tmp/serve.log ]]; then
		log "last lines of the server log:"
		tail -n 20 "$tmp/serve.log" >&2
	fi
	if [[ -n $db ]]; then
		psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 ||
			log "could not drop the database $db"
	fi
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

db_args=()
if [[ $backend == postgres ]]; then
	db="newsdesk_newsday_$$"
	psql "$PG_URL" -qc "CREATE DATABASE $db" >/dev/null || die "could not create the database $db at $PG_URL"
	db_args=(--database-url "${PG_URL%/*}/$db")
fi

# What a news day needs from the server: everything comes from 127.0.0.1, so the per-address
# caps on connections, streams, API requests and comments are lifted to what the run asks for
# (comments per reader and per address at twice the asked rate); readers' first comments are
# published at once, so each one purges the breaking story's page as a real one does.
comment_per_minute=$(python3 -c "import math; print(math.ceil($COMMENT_RATE * 60 * 2) + 10)")
comment_per_reader=$(python3 -c "import math; print(math.ceil($COMMENT_RATE * 60 * 2 / $COMMENTERS) + 3)")
day_env=(
	NEWSDESK_LOG=warn
	NEWSDESK_SERVER__MAX_CONNECTIONS_PER_ADDRESS=0
	NEWSDESK_LIVE__MAX_SUBSCRIBERS=$((SUBSCRIBERS + 100))
	NEWSDESK_LIVE__MAX_PER_ADDRESS=$((SUBSCRIBERS + 100))
	NEWSDESK_API__PER_ADDRESS_PER_MINUTE=100000
	NEWSDESK_API__PER_TOKEN_PER_MINUTE=100000
	NEWSDESK_COMMENTS__PER_READER_PER_MINUTE=$comment_per_reader
	NEWSDESK_COMMENTS__PER_ADDRESS_PER_MINUTE=$comment_per_minute
	NEWSDESK_COMMENTS__NEW_READER_HELD=0
)
# Setup signs many readers up from one address; the news day itself signs nobody up.
setup_env=(
	NEWSDESK_ACCOUNTS__REQUESTS_PER_ADDRESS_PER_HOUR=10000
	NEWSDESK_ACCOUNTS__HASHING_WAIT_SECONDS=60
)

# start_server [--timed] ENV=VALUE...: the demo site on a free port, up when /healthz answers.
start_server() {
	local timed=0
	if [[ ${1:-} == --timed ]]; then timed=1; shift; fi
	local port
	port=$(bench_free_port)
	base="http://127.0.0.1:$port"
	local cmd=("$bin" serve --demo --data-dir "$data" --listen "127.0.0.1:$port" "${db_args[@]}")
	if ((timed)); then
		env "$@" /usr/bin/time -v -o "$tmp/serve.time" "${cmd[@]}" >>"$tmp/serve.log" 2>&1 &
	else
		env "$@" "${cmd[@]}" >>"$tmp/serve.log" 2>&1 &
	fi
	server_top=$!
	bench_wait_healthy "$base" "$server_top" 120 || die "the server did not answer $base/healthz"
	serve_pid=$server_top
	if ((timed)); then
		serve_pid=$(bench_child_of "$server_top")
		[[ -n $serve_pid ]] || die "could not find the server's pid under GNU time"
	fi
}

site_args=(--data-dir "$data" --config "$repo/crates/core/config/demo.toml" "${db_args[@]}")

# --- 1. the archive, the demo edition and the editor --------------------------------------------
log "generating $STORIES stories of about $WORDS words"
python3 "$script_dir/archive.py" "$tmp/archive.json" "$tmp/urls.txt" "$STORIES" "$WORDS" >&2
log "loading the demo edition ($backend)"
start_server "${day_env[@]}"
stop_server
log "importing the archive"
NEWSDESK_LOG=warn "$bin" import "${site_args[@]}" "$tmp/archive.json" >&2
editor_email=newsday-editor@example.org
editor_password="the news-day editor's long password"
NEWSDESK_LOG=warn NEWSDESK_USER_PASSWORD=$editor_password "$bin" user add "${site_args[@]}" \
	--email "$editor_email" --name "News-day Editor" --role editor >&2

# --- 2. tokens, readers and the breaking story ----------------------------------------------------
log "setup: a staff token, $COMMENTERS readers with tokens, the breaking story"
start_server "${day_env[@]}" "${setup_env[@]}"
story=$(python3 "$script_dir/newsday.py" setup "$base" "$data" "$tmp/state.json" \
	"$editor_email" "$editor_password" "$COMMENTERS") || die "setup failed"
story=${story#story }
log "breaking story: $story"
stop_server

# --- 3. the news day ------------------------------------------------------------------------------
log "starting the measured server"
start_server --timed "${day_env[@]}"
log "server up at $base (pid $serve_pid)"

# The crawler: each wrk thread walks the archive from its own share of the list, in order.
bench_walk_script "$tmp/walk.lua" "$tmp/urls.txt" 2

log "warm-up 2 s"
for path in / /latest "$story"; do
	wrk -t1 -c8 -d2s -H 'Accept-Encoding: br, gzip' "$base$path" >/dev/null 2>&1 || die "wrk failed on $path"
done
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
hits0=$(bench_metric "$base" newsdesk_page_cache_hits_total)
misses0=$(bench_metric "$base" newsdesk_page_cache_misses_total)

log "opening $SUBSCRIBERS idle live-stream subscribers"
python3 "$script_dir/newsday.py" subscribers "$base" "$SUBSCRIBERS" "$((DURATION + 2))" \
	"$tmp/subscribers.ready" "$tmp/subscribers.json" 2>"$tmp/subscribers.err" &
subscribers_pid=$!
background+=("$subscribers_pid")
deadline=$((SECONDS + 120))
until [[ -s $tmp/subscribers.ready ]]; do
	kill -0 "$subscribers_pid" 2>/dev/null || { cat "$tmp/subscribers.err" >&2; die "the subscribers did not open"; }
	((SECONDS < deadline)) || die "the subscribers did not open within 120 s"
	sleep 0.2
done
log "$SUBSCRIBERS subscribers open in $(cat "$tmp/subscribers.ready") s"

# reader NAME CONNECTIONS PATH-OR-SCRIPT BASE: one wrk class in the background.
wrk_classes=()
reader() {
	local name=$1 connections=$2 target=$3 site=$4 args=()
	if [[ $target == *.lua ]]; then args=(-s "$target"); target=/; fi
	wrk -t1 -c"$connections" -d"${DURATION}s" --timeout 10s --latency -H 'Accept-Encoding: br, gzip' \
		"${args[@]}" "$site$target" >"$tmp/wrk-$name.txt" 2>&1 &
	background+=($!)
	wrk_classes+=("$name|$connections|$!")
}

log "news day: ${DURATION} s ($readers_total reader connections, crawler, editor, $COMMENT_RATE comments/s)"
reader home "$READERS_HOME" / "$base"
reader latest "$READERS_LATEST" /latest "$base"
reader story "$READERS_STORY" "$story" "$base"
reader crawler "$CRAWLER_CONNECTIONS" "$tmp/walk.lua" "$base"
python3 "$script_dir/newsday.py" run "$base" "$tmp/state.json" "$DURATION" "$tmp/day.json" "$serve_pid" \
	2>"$tmp/day.err" &
day_pid=$!
background+=("$day_pid")

for class in "${wrk_classes[@]}"; do
	wait "${class##*|}" || { cat "$tmp/wrk-${class%%|*}.txt" >&2; die "wrk (${class%%|*}) failed"; }
done
wait "$day_pid" || { cat "$tmp/day.err" >&2; die "the editor and commenters' client failed"; }
wait "$subscribers_pid" || { cat "$tmp/subscribers.err" >&2; die "the subscribers' client failed"; }
background=()
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
hits1=$(bench_metric "$base" newsdesk_page_cache_hits_total)
misses1=$(bench_metric "$base" newsdesk_page_cache_misses_total)
log "stopping the server"
stop_server
rss_kib=$(awk -F': *' '/Maximum resident set size \(kbytes\)/ { print $2 }' "$tmp/serve.time" 2>/dev/null || true)

# --- 4. WordPress, when there is one to compare with -------------------------------------------
notes=()
wp_classes=()
if [[ -n $WP_URL ]]; then
	curl -fsS --max-time 10 -o /dev/null "$WP_URL/" || die "WP_URL=$WP_URL does not answer"
	log "WordPress at $WP_URL: the same readers and crawler for ${DURATION} s"
	wrk_classes_nd=("${wrk_classes[@]}")
	wrk_classes=()
	reader wp-home "$READERS_HOME" / "$WP_URL"
	reader wp-latest "$READERS_LATEST" "${WP_LATEST_PATH:-/}" "$WP_URL"
	reader wp-story "$READERS_STORY" "$WP_STORY_PATH" "$WP_URL"
	if [[ -n ${WP_ARCHIVE_URLS:-} ]]; then
		sed "s|$tmp/urls.txt|$WP_ARCHIVE_URLS|" "$tmp/walk.lua" >"$tmp/wp-walk.lua"
		reader wp-crawler "$CRAWLER_CONNECTIONS" "$tmp/wp-walk.lua" "$WP_URL"
	fi
	for class in "${wrk_classes[@]}"; do
		wait "${class##*|}" || { cat "$tmp/wrk-${class%%|*}.txt" >&2; die "wrk (${class%%|*}) failed"; }
	done
	background=()
	wp_classes=("${wrk_classes[@]}")
	wrk_classes=("${wrk_classes_nd[@]}")
	notes+=("WordPress ($WP_URL): readers and crawler only; the editor, comments, subscribers and publish → visible probes run against newsdesk alone")
else
	log "WordPress: skipped (set WP_URL to a WordPress behind nginx fastcgi_cache, and WP_STORY_PATH, to compare in the same run)"
	notes+=("WordPress + nginx fastcgi_cache: skipped, none on this machine (WP_URL unset)")
fi

# --- 5. the report ---------------------------------------------------------------------------------
if [[ -n $hits0 && -n $hits1 && -n $misses0 && -n $misses1 ]]; then
	cache="$((hits1 - hits0)) hits, $((misses1 - misses0)) misses"
else
	cache=""
fi
class_load() {
	case $1 in
	home | wp-home) echo "$2 connections on \`/\`" ;;
	latest) echo "$2 connections on \`/latest\`" ;;
	wp-latest) echo "$2 connections on \`${WP_LATEST_PATH:-/}\`" ;;
	story) echo "$2 connections on the breaking story" ;;
	wp-story) echo "$2 connections on \`$WP_STORY_PATH\`" ;;
	crawler | wp-crawler) echo "$2 connections walking the archive" ;;
	esac
}
wrk_rows=()
for class in "${wrk_classes[@]}" "${wp_classes[@]}"; do
	IFS='|' read -r name connections _ <<<"$class"
	label="readers: $name"
	[[ $name == *crawler ]] && label="crawler${name%crawler}"
	[[ $name == wp-* ]] && label="WordPress ${name#wp-}"
	wrk_rows+=("$label|$(class_load "$name" "$connections")|$tmp/wrk-$name.txt")
done
stamp=$(date -u +%Y%m%dT%H%M%SZ)
git_rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || true)
command_line="DURATION=$DURATION STORIES=$STORIES bench/newsday.sh"
[[ $backend == sqlite ]] || command_line+=" --postgres"
revision=""
[[ -z $git_rev ]] || revision=", scripts at $git_rev"
META_BACKEND=$([[ $backend == postgres ]] && echo "PostgreSQL ($(psql "$PG_URL" -tAc 'SHOW server_version' 2>/dev/null || echo '?'))" || echo SQLite) \
META_COMMAND=$command_line META_DATE=$(date -u '+%Y-%m-%d %H:%M UTC') META_MACHINE=$(bench_machine) \
META_BIN=$bin META_REVISION=$revision META_STORIES=$STORIES META_DURATION=$DURATION \
META_SETTINGS="$(printf '`%s` ' "${day_env[@]}")" META_WRK=$(printf '%s\n' "${wrk_rows[@]}") \
META_DAY=$tmp/day.json META_SUBSCRIBERS=$tmp/subscribers.json META_COMMENTERS=$COMMENTERS \
META_COMMENT_RATE=$COMMENT_RATE META_SAVE_EVERY=$SAVE_EVERY META_PUBLISH_EVERY=$PUBLISH_EVERY \
META_LOAD="$load_before before the day, $load_after at its end" META_RSS_KIB=${rss_kib:-} META_CACHE=$cache META_NOTES=$(printf '%s\n' "${notes[@]}") \
	python3 -c '
import json, os
e = {k[5:].lower(): v for k, v in os.environ.items() if k.startswith("META_")}
e["wrk"] = [row.split("|") for row in e["wrk"].splitlines() if row]
e["notes"] = [n for n in e["notes"].splitlines() if n]
json.dump(e, open("'"$tmp/meta.json"'", "w"))'
mkdir -p "$RESULTS_DIR"
result_file="$RESULTS_DIR/newsday-$backend-$stamp.md"
python3 "$script_dir/newsday.py" report "$tmp/meta.json" >"$tmp/report.md" || die "could not write the report"
cat "$tmp/report.md"
{
	cat "$tmp/report.md"
	echo
	echo "<details><summary>raw wrk output</summary>"
	for row in "${wrk_rows[@]}"; do
		echo
		echo "#### ${row%%|*}"
		echo
		echo '```'
		cat "${row##*|}"
		echo '```'
	done
	echo
	echo "</details>"
} >"$result_file"
log "saved $result_file"
