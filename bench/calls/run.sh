#!/usr/bin/env bash
# Routing benchmark (docs/telephony.md, "Performance"): PostgreSQL and Redis on 127.0.0.1, about 6
# minutes. Uses its own databases (calls_bench, calls_bench_pgbench) and Redis db 1.
#   bench/calls/run.sh [--duration SECONDS] [--rounds N]
set -euo pipefail
cd "$(dirname "$0")/../.."
exec .venv/bin/python bench/calls/bench.py "$@"
