#!/usr/bin/env bash
# The whole benchmark in one command: installs wrk if missing, builds in release, and runs
# bench/run.py three times, leaving one table each:
#   1. SQLite, the standard data set (100,000 users …)       -> bench/last-run.md
#   2. SQLite, 10 million users (issue 21's growth targets)   -> bench/last-run-growth.md
#      (BENCH_GROWTH=0 skips it; generation peaked at ~11 GB of disk, WAL included, see RESULTS.md)
#   3. PostgreSQL, one instance, durable (issue 16's targets) -> bench/last-run-postgres.md
#      (a throwaway cluster from scripts/pg-temp.sh with PGTEMP_DURABLE=1; BENCH_PG=0 skips it)
# On the 2-core machine a full run should take 15–20 minutes (estimate: bench/RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
cargo build --release --bin localtwilio
python3 bench/run.py
if [[ "${BENCH_GROWTH:-1}" != 0 ]]; then
  # The same fetch, create and deep page as run 1's, on 100x the users; the summary lines give
  # the first answer after opening the database and the peak RSS.
  BENCH_USERS=10000000 BENCH_ONLY="fetch user by SID,create user,page 1,000" \
    BENCH_OUTPUT=bench/last-run-growth.md python3 bench/run.py
fi
if [[ "${BENCH_PG:-1}" != 0 ]]; then
  eval "$(PGTEMP_DURABLE=1 scripts/pg-temp.sh start)"
  trap 'scripts/pg-temp.sh stop "$PGTEMP_DIR"' EXIT
  BENCH_POSTGRES="$LOCALTWILIO_TEST_POSTGRES" BENCH_USERS=20000 BENCH_FLOWS=2000 BENCH_END_USERS=20000 \
    BENCH_OUTPUT=bench/last-run-postgres.md python3 bench/run.py
fi
