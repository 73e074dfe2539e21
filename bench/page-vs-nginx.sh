#!/usr/bin/env bash
# page-vs-nginx.sh: how fast does `newsdesk serve` deliver a story page,
# compared with nginx serving the very same bytes as a static file?
#
# What it measures
#   1. Starts `newsdesk serve --demo` (under GNU time, to record its peak RSS)
#      on a free loopback port, with NEWSDESK_LOG=warn (no access logs).
#   2. Takes the top story of the home page (the link in its .top-headline),
#      fetches it once gzipped, and stores those exact gzip bytes plus their
#      decompressed form as story.html.gz / story.html.
#   3. Starts a private nginx (own config in a temp dir: 2 workers, access_log
#      off, sendfile, gzip_static, etag, keepalive_requests 100000) serving that
#      file, and checks that it returns byte-identical gzip bytes.
#   4. Warms both up (2 s each), then runs ROUNDS alternating rounds of
#      `wrk -t2 -cCONNECTIONS -dDURATIONs --latency -H 'Accept-Encoding: gzip'`,
#      newsdesk first, then nginx, and records req/s and p99 latency.
#   5. Stops newsdesk with SIGTERM (graceful shutdown) and reads its peak RSS.
#   6. Prints a Markdown summary (per-round table, medians, the ratio
#      newsdesk/nginx of the median req/s, peak RSS) to stdout and saves it as
#      bench/results/page-vs-nginx-<UTC timestamp>.md.
#   wrk, nginx and newsdesk share the machine's cores, so absolute numbers
#   depend heavily on the machine; the ratio is the interesting figure.
#   A low ratio does not fail the script: it is a measurement, not a test.
#   It exits non-zero only when the setup fails (missing tools, server does not
#   come up, page not found, nginx bytes differ, ...).
#
# How to run (on Debian/Ubuntu, as root so missing packages can be installed):
#   bench/page-vs-nginx.sh
#   DURATION=5 ROUNDS=2 CONNECTIONS=32 bench/page-vs-nginx.sh
#   NEWSDESK_BIN=/path/to/newsdesk bench/page-vs-nginx.sh
#   NGINX_ONLY_FILE=/path/page.html bench/page-vs-nginx.sh   # nginx alone
#
# Environment
#   NEWSDESK_BIN     binary to test (default: <repo>/target/release/newsdesk,
#                    built with `cargo build --release -p newsdesk` if missing)
#   ROUNDS           alternating measurement rounds (default 3)
#   DURATION         seconds per wrk run (default 10)
#   CONNECTIONS      wrk connections (default 64); wrk always uses 2 threads
#   NGINX_ONLY_FILE  skip newsdesk entirely and benchmark nginx alone serving
#                    this HTML file (and FILE.gz if it exists, else a gzip -6
#                    of it); handy to check the harness or the machine.
#                    Results then go to bench/results/nginx-only-<ts>.md.
#   PAGE_PATH        the address to compare instead of the top story, such as
#                    /api/v1/items (the API's stream, from the API's cache). For
#                    an /api/ address newsdesk trusts 127.0.0.1 as a proxy and
#                    wrk sends each request from one of 4,096 addresses in
#                    X-Forwarded-For (nginx gets the same requests): the API's
#                    per-address limit (at most 100,000 a minute) would otherwise
#                    answer a single-address load with 429s.
#   RESULTS_DIR      where to save the Markdown (default <repo>/bench/results)
#
# Needs: nginx (nginx-light is enough; any nginx with gzip_static), wrk,
# GNU time (/usr/bin/time), curl, gzip, cmp. Missing ones are installed with
# apt-get. python3 is used to find free ports when present (optional).

set -euo pipefail

export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=2
WARMUP=2
NGINX_ONLY_FILE=${NGINX_ONLY_FILE:-}
PAGE_PATH=${PAGE_PATH:-}
spread_script=""

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$script_dir/.." && pwd)
RESULTS_DIR=${RESULTS_DIR:-$repo/bench/results}

log() { printf '[page-vs-nginx] %s\n' "$*" >&2; }
warn() { printf '[page-vs-nginx] WARNING: %s\n' "$*" >&2; }
die() { printf '[page-vs-nginx] ERROR: %s\n' "$*" >&2; exit 1; }

for v in ROUNDS DURATION CONNECTIONS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
((CONNECTIONS >= THREADS)) || die "CONNECTIONS must be at least $THREADS"

# --- state used by the cleanup trap ------------------------------------------
tmp=""
nginx_pid=""
time_pid=""
serve_pid=""

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	if [[ -n $nginx_pid ]] && kill -0 "$nginx_pid" 2>/dev/null; then
		kill -TERM "$nginx_pid" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$nginx_pid" 2>/dev/null
		wait "$nginx_pid" 2>/dev/null
	fi
	if [[ -n $time_pid ]] && kill -0 "$time_pid" 2>/dev/null; then
		kill -TERM "${serve_pid:-$time_pid}" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$time_pid" 2>/dev/null || break; sleep 0.1; done
		[[ -n $serve_pid ]] && kill -KILL "$serve_pid" 2>/dev/null
		kill -KILL "$time_pid" 2>/dev/null
		wait "$time_pid" 2>/dev/null
	fi
	if [[ -n $tmp && -d $tmp ]]; then
		if ((rc != 0)); then
			if [[ -s $tmp/serve.log ]]; then
				log "last lines of the newsdesk log:"
				tail -n 30 "$tmp/serve.log" >&2
			fi
			if [[ -s $tmp/nginx/error.log ]]; then
				log "last lines of the nginx error log:"
				tail -n 30 "$tmp/nginx/error.log" >&2
			fi
		fi
		rm -rf "$tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. tools -------------------------------------------------------------------
need=()
command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
[[ -x /usr/bin/time ]] || need+=(time)
command -v curl >/dev/null 2>&1 || need+=(curl)
if ((${#need[@]})); then
	[[ $(id -u) == 0 ]] || die "missing packages: ${need[*]} (run as root to install them with apt-get)"
	command -v apt-get >/dev/null 2>&1 || die "missing packages: ${need[*]}, and no apt-get to install them"
	log "installing ${need[*]} with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >&2
	apt-get install -y "${need[@]}" >&2
fi
for t in nginx wrk curl gzip gunzip cmp; do
	command -v "$t" >/dev/null 2>&1 || die "'$t' not found"
done
[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time) not found"
nginx -V 2>&1 | grep -q -- '--with-http_gzip_static_module' ||
	die "this nginx lacks the gzip_static module (install nginx-light)"

# --- helpers --------------------------------------------------------------------
free_port() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
		return
	fi
	local p
	for _ in $(seq 200); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	return 1
}

# First child process of $1 (GNU time's child is the server).
child_of() {
	local parent=$1 c="" f line rest ppid
	c=$(cat /proc/"$parent"/task/*/children 2>/dev/null | awk 'NF { print $1; exit }') || true
	if [[ -z $c ]]; then
		for f in /proc/[0-9]*/stat; do
			line=$(<"$f") 2>/dev/null || continue
			rest=${line##*) }
			read -r _ ppid _ <<<"$rest"
			if [[ $ppid == "$parent" ]]; then
				c=${f#/proc/}
				c=${c%/stat}
				break
			fi
		done
	fi
	echo "$c"
}

# run_wrk SECONDS URL OUTFILE
run_wrk() {
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"$1s" --latency -H 'Accept-Encoding: gzip' \
		${spread_script:+-s "$spread_script"} "$2" >"$3" 2>&1 ||
		{ cat "$3" >&2; die "wrk failed against $2"; }
}

wrk_rps() { awk '$1 == "Requests/sec:" { print $2 }' "$1"; }

# 99th percentile latency in milliseconds (wrk prints us, ms, s, m or h).
wrk_p99_ms() {
	awk '$1 == "99%" {
		v = $2; f = 1
		if (v ~ /us$/) { sub(/us$/, "", v); f = 0.001 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); f = 1 }
		else if (v ~ /m$/) { sub(/m$/, "", v); f = 60000 }
		else if (v ~ /h$/) { sub(/h$/, "", v); f = 3600000 }
		else if (v ~ /s$/) { sub(/s$/, "", v); f = 1000 }
		printf "%.3f\n", v * f
	}' "$1"
}

# Warns (and records in $warnings) about non-2xx responses or socket errors.
warnings=()
wrk_check() { # NAME ROUND OUTFILE
	local non2xx sock
	non2xx=$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' "$3")
	sock=$(grep -o 'Socket errors:.*' "$3" || true)
	if [[ -n $non2xx && $non2xx != 0 ]]; then
		warn "$1 round $2: $non2xx non-2xx/3xx responses"
		warnings+=("$1 round $2: $non2xx non-2xx/3xx responses")
	fi
	if [[ -n $sock ]]; then
		warn "$1 round $2: $sock"
		warnings+=("$1 round $2: $sock")
	fi
	if [[ -z $(wrk_rps "$3") || -z $(wrk_p99_ms "$3") ]]; then
		cat "$3" >&2
		die "could not parse the wrk output for $1 round $2"
	fi
}

median() {
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
		END { if (NR % 2) printf "%.2f", a[(NR + 1) / 2]; else printf "%.2f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

stamp=$(date -u +%Y%m%dT%H%M%SZ)
date_utc=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
tmp=$(mktemp -d "${TMPDIR:-/tmp}/page-vs-nginx.XXXXXX")
# nginx workers run as an unprivileged user: let them reach the files.
chmod 755 "$tmp"
mkdir -p "$tmp/www" "$tmp/nginx"
chmod 755 "$tmp/www" "$tmp/nginx"

# --- 2.-5. newsdesk and the page ---------------------------------------------------
bin=""
bin_version=""
page_path=""
if [[ -n $NGINX_ONLY_FILE ]]; then
	[[ -f $NGINX_ONLY_FILE ]] || die "NGINX_ONLY_FILE=$NGINX_ONLY_FILE is not a file"
	log "nginx-only mode: benchmarking nginx alone on $NGINX_ONLY_FILE"
	cp "$NGINX_ONLY_FILE" "$tmp/www/story.html"
	if [[ -f $NGINX_ONLY_FILE.gz ]]; then
		cp "$NGINX_ONLY_FILE.gz" "$tmp/www/story.html.gz"
	else
		gzip -6 -n -c "$NGINX_ONLY_FILE" >"$tmp/www/story.html.gz"
	fi
	page_path="(file) $NGINX_ONLY_FILE"
else
	if [[ -n ${NEWSDESK_BIN:-} ]]; then
		bin=$NEWSDESK_BIN
		[[ -x $bin ]] || die "NEWSDESK_BIN=$bin is not an executable file"
	else
		bin="${CARGO_TARGET_DIR:-$repo/target}/release/newsdesk"
		if [[ ! -x $bin ]]; then
			command -v cargo >/dev/null 2>&1 || die "$bin is missing and cargo is not installed"
			log "$bin is missing: building it (cargo build --release -p newsdesk)"
			(cd "$repo" && cargo build --release -p newsdesk) >&2
			[[ -x $bin ]] || die "the build did not produce $bin"
		fi
	fi
	bin_version=$("$bin" --version 2>/dev/null | head -n 1) || bin_version=""

	port=$(free_port) || die "could not find a free port"
	url_base="http://127.0.0.1:$port"
	log "starting $bin serve --demo on 127.0.0.1:$port"
	spread_env=()
	if [[ $PAGE_PATH == /api/* ]]; then
		spread_env=(NEWSDESK_SERVER__TRUSTED_PROXIES='["127.0.0.1"]' NEWSDESK_API__PER_ADDRESS_PER_MINUTE=100000)
		spread_script=$tmp/spread.lua
		cat >"$spread_script" <<'LUA'
local n = 0
function request()
  n = n + 1
  wrk.headers["X-Forwarded-For"] = "10.0." .. (math.floor(n / 256) % 16) .. "." .. (n % 256)
  return wrk.format()
end
LUA
	fi
	env NEWSDESK_LOG=warn "${spread_env[@]}" /usr/bin/time -v -o "$tmp/serve.time" \
		"$bin" serve --demo --data-dir "$tmp/data" --listen "127.0.0.1:$port" \
		>"$tmp/serve.log" 2>&1 &
	time_pid=$!

	deadline=$((SECONDS + 60))
	until curl -fsS --max-time 5 -o /dev/null "$url_base/healthz" 2>/dev/null; do
		kill -0 "$time_pid" 2>/dev/null || {
			time_pid_rc=0
			wait "$time_pid" || time_pid_rc=$?
			time_pid=""
			die "newsdesk serve exited (status $time_pid_rc) before $url_base/healthz answered"
		}
		((SECONDS < deadline)) || {
			curl -sS --max-time 5 -o /dev/null -w 'last /healthz status: %{http_code}\n' "$url_base/healthz" >&2 || true
			die "$url_base/healthz did not answer with 2xx within 60 s"
		}
		sleep 0.2
	done
	serve_pid=$(child_of "$time_pid")
	[[ -n $serve_pid ]] || warn "could not find the server's pid under GNU time; SIGTERM will go to time itself"
	log "newsdesk is up (pid ${serve_pid:-?})"

	if [[ -n $PAGE_PATH ]]; then
		page_path=$PAGE_PATH
	else
		curl -fsS --max-time 10 -o "$tmp/home.html" "$url_base/" || die "GET / failed"
		# The top story's headline link: <h2 class="top-headline"><a href="/section/slug">.
		page_path=$(grep -o 'class="top-headline"><a href="/[a-z0-9][a-z0-9/-]*"' "$tmp/home.html" | head -n 1 |
			sed -e 's/^.*href="//' -e 's/"$//') || true
		[[ -n $page_path ]] || die "no top story link (class=\"top-headline\") on the home page ($(wc -c <"$tmp/home.html") bytes)"
	fi
	log "page: $page_path"

	curl -fsS --max-time 10 -H 'Accept-Encoding: gzip' -D "$tmp/story.headers" \
		-o "$tmp/www/story.html.gz" "$url_base$page_path" || die "GET $page_path failed"
	grep -qi '^content-encoding: *gzip' "$tmp/story.headers" || {
		cat "$tmp/story.headers" >&2
		die "newsdesk did not gzip $page_path for Accept-Encoding: gzip"
	}
	gunzip -c "$tmp/www/story.html.gz" >"$tmp/www/story.html" || die "the body of $page_path is not valid gzip"
fi
chmod 644 "$tmp/www/story.html" "$tmp/www/story.html.gz"
size_identity=$(wc -c <"$tmp/www/story.html" | tr -d ' ')
size_gzip=$(wc -c <"$tmp/www/story.html.gz" | tr -d ' ')
log "page sizes: $size_identity bytes identity, $size_gzip bytes gzip"

# --- 6. nginx ---------------------------------------------------------------------
nginx_port=""
for _ in $(seq 20); do
	nginx_port=$(free_port) || die "could not find a free port"
	[[ $nginx_port != "${port:-}" ]] && break
done
nginx_V=$(nginx -V 2>&1)
temp_paths="client_body_temp_path $tmp/nginx/client_body;"
for m in proxy fastcgi uwsgi scgi; do
	case $nginx_V in
	*"--without-http_${m}_module"*) ;;
	*) temp_paths+=$'\n'"    ${m}_temp_path $tmp/nginx/$m;" ;;
	esac
done
cat >"$tmp/nginx/nginx.conf" <<EOF
# generated by bench/page-vs-nginx.sh
daemon off;
worker_processes 2;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;

events {
    worker_connections 4096;
}

http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 100000;
    server_tokens off;
    $temp_paths

    server {
        listen 127.0.0.1:$nginx_port;
        root $tmp/www;
        etag on;

        location = /story.html {
            default_type text/html;
            gzip_static on;
        }
    }
}
EOF
nginx_args=(-p "$tmp/nginx/" -c "$tmp/nginx/nginx.conf")
# -e (error log before the config is read) exists since nginx 1.19.5.
if nginx -h 2>&1 | grep -q -- '^ *-e '; then
	nginx_args+=(-e "$tmp/nginx/error.log")
fi
nginx -t "${nginx_args[@]}" >"$tmp/nginx/test.log" 2>&1 || {
	cat "$tmp/nginx/test.log" >&2
	die "nginx rejected its config"
}
log "starting nginx on 127.0.0.1:$nginx_port"
nginx "${nginx_args[@]}" >"$tmp/nginx/stdout.log" 2>&1 &
nginx_pid=$!
nginx_url="http://127.0.0.1:$nginx_port/story.html"
deadline=$((SECONDS + 30))
until curl -fsS --max-time 5 -o /dev/null "$nginx_url" 2>/dev/null; do
	kill -0 "$nginx_pid" 2>/dev/null || { nginx_pid=""; cat "$tmp/nginx/stdout.log" >&2; die "nginx exited"; }
	((SECONDS < deadline)) || die "nginx did not answer within 30 s"
	sleep 0.1
done
curl -fsS --max-time 5 -I -H 'Accept-Encoding: gzip' "$nginx_url" >"$tmp/nginx/head.txt" || die "HEAD on nginx failed"
grep -qi '^content-encoding: *gzip' "$tmp/nginx/head.txt" || {
	cat "$tmp/nginx/head.txt" >&2
	die "nginx does not answer with Content-Encoding: gzip"
}
curl -fsS --max-time 5 -H 'Accept-Encoding: gzip' -o "$tmp/nginx/body.gz" "$nginx_url" || die "GET on nginx failed"
cmp -s "$tmp/nginx/body.gz" "$tmp/www/story.html.gz" ||
	die "nginx's gzip bytes differ from the page's ($(wc -c <"$tmp/nginx/body.gz") vs $size_gzip bytes)"
log "nginx serves the identical $size_gzip gzip bytes"

# --- 7. measure --------------------------------------------------------------------
targets=()
[[ -z $NGINX_ONLY_FILE ]] && targets+=("newsdesk|$url_base$page_path")
targets+=("nginx|$nginx_url")

for t in "${targets[@]}"; do
	log "warm-up ${WARMUP}s: ${t%%|*}"
	run_wrk "$WARMUP" "${t#*|}" "$tmp/warmup.txt"
done

declare -A rps p99
raw=""
for ((r = 1; r <= ROUNDS; r++)); do
	for t in "${targets[@]}"; do
		name=${t%%|*}
		out="$tmp/wrk-$name-$r.txt"
		log "round $r/$ROUNDS: $name (${DURATION}s, $CONNECTIONS connections)"
		run_wrk "$DURATION" "${t#*|}" "$out"
		wrk_check "$name" "$r" "$out"
		rps[$name,$r]=$(wrk_rps "$out")
		p99[$name,$r]=$(wrk_p99_ms "$out")
		log "  $name: ${rps[$name,$r]} req/s, p99 ${p99[$name,$r]} ms"
		raw+=$'\n'"#### round $r, $name"$'\n\n```\n'"$(cat "$out")"$'\n```\n'
	done
done

# --- 8. stop the server, read its peak RSS ------------------------------------------
rss_kb=""
serve_status=""
if [[ -z $NGINX_ONLY_FILE ]]; then
	log "stopping newsdesk with SIGTERM"
	kill -TERM "${serve_pid:-$time_pid}" 2>/dev/null || true
	for _ in $(seq 300); do kill -0 "$time_pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$time_pid" 2>/dev/null; then
		warn "newsdesk did not exit within 30 s of SIGTERM; killing it"
		warnings+=("newsdesk did not exit within 30 s of SIGTERM (killed)")
		kill -KILL "${serve_pid:-$time_pid}" 2>/dev/null || true
	fi
	time_rc=0
	wait "$time_pid" || time_rc=$?
	time_pid=""
	serve_pid=""
	if ((time_rc != 0)); then
		warn "newsdesk serve exited with status $time_rc after SIGTERM"
		warnings+=("newsdesk serve exited with status $time_rc after SIGTERM")
	fi
	serve_status=$time_rc
	rss_kb=$(awk -F': *' '/Maximum resident set size \(kbytes\)/ { print $2 }' "$tmp/serve.time" 2>/dev/null || true)
	[[ -n $rss_kb ]] || warn "no peak RSS in $tmp/serve.time"
fi

# --- 9. report ---------------------------------------------------------------------
cpu_model=$(awk -F': *' '/^(model name|Model|Hardware|cpu model)[[:space:]]*:/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
nginx_version=$(nginx -v 2>&1 | head -n 1)
wrk_version=$({ wrk -v 2>&1 || true; } | head -n 1 | sed 's/ *Copyright.*//')
git_rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null) || git_rev=""

nd_median=""
ratio=""
ngx_median=$(median $(for ((r = 1; r <= ROUNDS; r++)); do echo "${rps[nginx,$r]}"; done))
if [[ -z $NGINX_ONLY_FILE ]]; then
	nd_median=$(median $(for ((r = 1; r <= ROUNDS; r++)); do echo "${rps[newsdesk,$r]}"; done))
	ratio=$(awk -v a="$nd_median" -v b="$ngx_median" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }')
fi

summary() {
	echo "# newsdesk page vs nginx static file"
	echo
	echo "- Date: $date_utc"
	echo "- Machine: $(nproc) CPUs (nproc), ${cpu_model:-unknown CPU}, kernel $(uname -srm)"
	echo "- nginx: ${nginx_version#nginx version: } (2 workers, sendfile, gzip_static, etag, access_log off)"
	echo "- wrk: $wrk_version"
	if [[ -z $NGINX_ONLY_FILE ]]; then
		echo "- newsdesk: \`$bin\`${bin_version:+ ($bin_version)}${git_rev:+, repo at $git_rev}; \`serve --demo\`, NEWSDESK_LOG=warn"
	else
		echo "- Mode: nginx only (NGINX_ONLY_FILE), newsdesk not run"
	fi
	echo "- Page: \`$page_path\`: $size_identity bytes identity, $size_gzip bytes gzip (nginx serves the identical gzip bytes)"
	echo "- Load: \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency -H 'Accept-Encoding: gzip'\`, ${WARMUP} s warm-up each, $ROUNDS alternating rounds; wrk and the servers share the same CPUs"
	if [[ -n $spread_script ]]; then
		echo "- Addresses: every request from one of 4,096 in \`X-Forwarded-For\` (a wrk Lua script, for both servers), newsdesk trusting 127.0.0.1 as a proxy and allowing 100,000 requests a minute an address"
	fi
	echo
	echo "| Round | newsdesk req/s | newsdesk p99 ms | nginx req/s | nginx p99 ms |"
	echo "|---:|---:|---:|---:|---:|"
	for ((r = 1; r <= ROUNDS; r++)); do
		if [[ -z $NGINX_ONLY_FILE ]]; then
			printf '| %d | %s | %s | %s | %s |\n' "$r" "${rps[newsdesk,$r]}" "${p99[newsdesk,$r]}" "${rps[nginx,$r]}" "${p99[nginx,$r]}"
		else
			printf '| %d | - | - | %s | %s |\n' "$r" "${rps[nginx,$r]}" "${p99[nginx,$r]}"
		fi
	done
	echo
	if [[ -z $NGINX_ONLY_FILE ]]; then
		echo "- Median req/s: newsdesk $nd_median, nginx $ngx_median"
		echo "- Ratio newsdesk/nginx (median req/s): **$ratio**"
		if [[ -n $rss_kb ]]; then
			echo "- Peak RSS of \`newsdesk serve\`: $(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }') MiB ($rss_kb kB, GNU time; exit status $serve_status after SIGTERM)"
		else
			echo "- Peak RSS of \`newsdesk serve\`: unknown"
		fi
	else
		echo "- Median req/s: nginx $ngx_median"
	fi
	if ((${#warnings[@]})); then
		echo "- Warnings:"
		printf '  - %s\n' "${warnings[@]}"
	else
		echo "- Warnings: none (no non-2xx responses, no socket errors)"
	fi
}

mkdir -p "$RESULTS_DIR"
if [[ -n $NGINX_ONLY_FILE ]]; then
	result_file="$RESULTS_DIR/nginx-only-$stamp.md"
else
	result_file="$RESULTS_DIR/page-vs-nginx-$stamp.md"
fi
summary
{
	summary
	echo
	echo "<details><summary>raw wrk output</summary>"
	echo "$raw"
	echo "</details>"
} >"$result_file"
log "saved $result_file"
