#!/usr/bin/env bash
# Dashboard KPI benchmark (docs/kpis.md, "Speed"): PostgreSQL on 127.0.0.1, its own database
# desk_kpis_bench. About 2 minutes the first time (the fill), seconds after.
#   bench/kpis/run.sh [--calls 1000000] [--rounds 30] [--runs 1]
set -euo pipefail
cd "$(dirname "$0")/../.."
exec .venv/bin/python bench/kpis/bench.py "$@"
