#!/usr/bin/env bash
# The whole benchmark in one command: installs wrk if missing, builds in release, runs
# bench/run.py (seed, serve, measure), and leaves the table in bench/last-run.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
cargo build --release --bin localtwilio
python3 bench/run.py
