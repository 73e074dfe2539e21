#!/usr/bin/env bash
# search.sh: the search index against SQLite FTS5 and PostgreSQL full-text search on one
# generated corpus in one run: build time and size, query latency p50/p99 for one-, two-
# and three-word queries and phrases, and precision at 5 on the labelled query set.
#
#   bench/search.sh                 # 100,000 items
#   ITEMS=20000 bench/search.sh
#
# Needs a PostgreSQL at NEWSDESK_BENCH_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/postgres) for its rows; a database of its own is created
# and dropped. Prints a Markdown summary and saves it under bench/results/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
results=${RESULTS_DIR:-$root/bench/results}
mkdir -p "$results"
out="$results/search-$(date -u +%Y%m%dT%H%M%SZ).md"
cd "$root"
ITEMS=${ITEMS:-100000} cargo bench --locked -p newsdesk-search --bench search | tee "$out"
echo "saved $out" >&2
