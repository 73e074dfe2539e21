# lib.sh: shell functions the bench scripts share (sourced, not run). It owns finding tools and
# the binary, free ports, starting and stopping a server, and reading wrk's output; it never
# decides what a benchmark measures. Callers set BENCH_NAME (the log prefix) and `repo`; it
# gives them `log`, `die` and RESULTS_DIR (default <repo>/bench/results).

bench_log() { printf '[%s] %s\n' "${BENCH_NAME:-bench}" "$*" >&2; }
bench_die() { printf '[%s] ERROR: %s\n' "${BENCH_NAME:-bench}" "$*" >&2; exit 1; }
log() { bench_log "$@"; }
die() { bench_die "$@"; }
# Where a script saves its Markdown summary.
RESULTS_DIR=${RESULTS_DIR:-$repo/bench/results}

# bench_need COMMAND[:PACKAGE]...: installs the packages of missing commands with apt-get.
bench_need() {
	local need=() spec cmd
	for spec in "$@"; do
		cmd=${spec%%:*}
		if [[ $cmd == /* ]]; then [[ -x $cmd ]] && continue; else command -v "$cmd" >/dev/null 2>&1 && continue; fi
		need+=("${spec#*:}")
	done
	((${#need[@]})) || return 0
	[[ $(id -u) == 0 ]] || bench_die "missing packages: ${need[*]} (run as root to install them with apt-get)"
	command -v apt-get >/dev/null 2>&1 || bench_die "missing packages: ${need[*]}, and no apt-get to install them"
	bench_log "installing ${need[*]} with apt-get"
	DEBIAN_FRONTEND=noninteractive apt-get update >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >&2
}

# bench_binary: prints the binary to test, NEWSDESK_BIN or <repo>/target/release/newsdesk
# (built with cargo when missing).
bench_binary() {
	local bin=${NEWSDESK_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/newsdesk}
	if [[ ! -x $bin ]]; then
		[[ -z ${NEWSDESK_BIN:-} ]] || bench_die "NEWSDESK_BIN=$bin is not an executable file"
		command -v cargo >/dev/null 2>&1 || bench_die "$bin is missing and cargo is not installed"
		bench_log "$bin is missing: building it"
		(cd "$repo" && cargo build --release --locked -p newsdesk) >&2
		[[ -x $bin ]] || bench_die "the build did not produce $bin"
	fi
	echo "$bin"
}

bench_free_port() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# bench_wait_healthy URL PID SECONDS: polls URL/healthz until it answers, while PID lives.
bench_wait_healthy() {
	local deadline=$((SECONDS + $3))
	until curl -fsS --max-time 5 -o /dev/null "$1/healthz" 2>/dev/null; do
		kill -0 "$2" 2>/dev/null || return 1
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# bench_child_of PID: the first child of PID (GNU time's child is the server).
bench_child_of() {
	cat /proc/"$1"/task/*/children 2>/dev/null | awk 'NF { print $1; exit }'
}

# bench_stop PID [SECONDS]: SIGTERM, then SIGKILL after SECONDS (default 15); reaps it.
bench_stop() {
	local pid=$1 limit=$((${2:-15} * 10))
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < limit; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# bench_latency_ms PERCENTILE FILE: a wrk --latency percentile in ms (wrk prints us, ms, s, m).
bench_latency_ms() {
	awk -v p="$1" '$1 == p {
		v = $2; f = 1
		if (v ~ /us$/) { sub(/us$/, "", v); f = 0.001 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v) }
		else if (v ~ /m$/) { sub(/m$/, "", v); f = 60000 }
		else if (v ~ /s$/) { sub(/s$/, "", v); f = 1000 }
		printf "%.2f\n", v * f
	}' "$2"
}

bench_median() {
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
		END { if (NR % 2) printf "%.2f", a[(NR + 1) / 2]; else printf "%.2f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# bench_metric BASE NAME: one value from /metrics (empty when absent).
bench_metric() {
	curl -fsS --max-time 5 "$1/metrics" 2>/dev/null | awk -v m="$2" '$1 == m { print $2 }' || true
}

# bench_machine: "2 CPUs (nproc), <model>, 23 GiB RAM, Linux 6.x".
bench_machine() {
	local cpu ram
	cpu=$(awk -F': *' '/^(model name|Model|Hardware|cpu model)[[:space:]]*:/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
	ram=$(awk '/^MemTotal:/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)
	echo "$(nproc) CPUs (nproc), ${cpu:-unknown CPU}, ${ram:-unknown RAM}, $(uname -sr)"
}

# bench_walk_script OUT URLS THREADS: writes a wrk Lua script that walks every address in the
# file URLS (one a line) in order; thread N starts at the N-th share of the list, so no two
# connections ask for the same page at about the same time.
bench_walk_script() {
	cat >"$1" <<LUA
local paths = {}
for line in io.lines("$2") do paths[#paths + 1] = line end
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
local i
function request()
  if i == nil then i = math.floor((id or 0) * #paths / $3) end
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
LUA
}
