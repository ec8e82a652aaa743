#!/usr/bin/env bash
# The whole test suite: Rust unit + integration tests, then the official-client SDK suites
# against the real binary. Prints each suite's result and a total; fails if any suite fails.
# Run one suite alone with: scripts/test.sh rust | python | node | schemathesis
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
    run_suite python python_suite
    run_suite node node_suite
    run_suite schemathesis schemathesis_suite
    ;;
  rust) run_suite rust rust_suite ;;
  python) run_suite python python_suite ;;
  node) run_suite node node_suite ;;
  schemathesis) run_suite schemathesis schemathesis_suite ;;
  *) echo "usage: scripts/test.sh [all|rust|python|node|schemathesis]"; exit 2 ;;
esac

echo "=== results"
printf '%s\n' "${results[@]}"
passed_count=$(printf '%s\n' "${results[@]}" | grep -c ': passed$')
failed_count=$(printf '%s\n' "${results[@]}" | grep -c ': FAILED$')
echo "suites: $passed_count passed, $failed_count failed"
exit $failed
