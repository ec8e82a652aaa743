#!/usr/bin/env bash
# The whole test suite: Rust unit + integration tests, then the official-client SDK suites
# against the real binary. Prints each suite's result and a total; fails if any suite fails.
# Run one suite alone with: scripts/test.sh rust | rust-postgres | python | python-postgres | node | schemathesis
# The *-postgres suites run on a throwaway PostgreSQL (scripts/pg-temp.sh), started once and
# stopped on exit, unless LOCALTWILIO_TEST_POSTGRES already names one.
set -uo pipefail
cd "$(dirname "$0")/.."

want="${1:-all}"
results=()
failed=0

run_suite() { # name, command...
  local name=$1; shift
  echo "=== suite: $name"
  if "$@"; then results+=("$name: passed"); else results+=("$name: FAILED"); failed=1; fi
}

rust_suite() {
  cargo test --all-targets
}

# A throwaway PostgreSQL for the suites that also run on it; stopped when the script exits.
pg_start() {
  [ -n "${LOCALTWILIO_TEST_POSTGRES:-}" ] && return 0
  local exports
  exports=$(scripts/pg-temp.sh start) || return 1
  eval "$exports"
  trap 'scripts/pg-temp.sh stop "$PGTEMP_DIR"' EXIT
}

# The API suite again on PostgreSQL: the same test binary (no rebuild), the backend chosen at
# run time; tests about SQLite itself pass as skipped. Then the library's own PostgreSQL tests
# (the group-commit writer, the store's transactions), which skip themselves without
# LOCALTWILIO_TEST_POSTGRES: the lib test binary the rust suite built, again no rebuild.
rust_pg_suite() {
  pg_start || return 1
  LOCALTWILIO_TEST_BACKEND=postgres cargo test --test api &&
    LOCALTWILIO_TEST_POSTGRES="$LOCALTWILIO_TEST_POSTGRES" cargo test --lib -- pg_writer store::tests
}

python_pg_suite() {
  pg_start || return 1
  LOCALTWILIO_SDK_POSTGRES="$LOCALTWILIO_TEST_POSTGRES" python_suite
}

python_suite() {
  cargo build --bin localtwilio || return 1
  local venv=.venv/sdk-python
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || return 1
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/sdk/python/requirements.txt || return 1
  LOCALTWILIO_BIN="$PWD/target/debug/localtwilio" \
    "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/sdk/python
}

node_suite() {
  cargo build --bin localtwilio || return 1
  command -v node >/dev/null || { echo "node is not installed"; return 1; }
  (cd tests/sdk/node && npm ci --no-audit --no-fund --silent) || return 1
  (cd tests/sdk/node && LOCALTWILIO_BIN="$PWD/../../../target/debug/localtwilio" node --test --test-concurrency=1)
}

schemathesis_suite() {
  cargo build --bin localtwilio || return 1
  local venv=.venv/fuzz
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || return 1
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/fuzz/requirements.txt || return 1
  PATH="$PWD/$venv/bin:$PATH" LOCALTWILIO_BIN="$PWD/target/debug/localtwilio" \
    "$venv/bin/python" tests/fuzz/run.py --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-25}"
}

case "$want" in
  all)
    run_suite rust rust_suite
    run_suite rust-postgres rust_pg_suite
    run_suite python python_suite
    run_suite python-postgres python_pg_suite
    run_suite node node_suite
    run_suite schemathesis schemathesis_suite
    ;;
  rust) run_suite rust rust_suite ;;
  rust-postgres) run_suite rust-postgres rust_pg_suite ;;
  python) run_suite python python_suite ;;
  python-postgres) run_suite python-postgres python_pg_suite ;;
  node) run_suite node node_suite ;;
  schemathesis) run_suite schemathesis schemathesis_suite ;;
  *) echo "usage: scripts/test.sh [all|rust|rust-postgres|python|python-postgres|node|schemathesis]"; exit 2 ;;
esac

echo "=== results"
printf '%s\n' "${results[@]}"
passed_count=$(printf '%s\n' "${results[@]}" | grep -c ': passed$')
failed_count=$(printf '%s\n' "${results[@]}" | grep -c ': FAILED$')
echo "suites: $passed_count passed, $failed_count failed"
exit $failed
