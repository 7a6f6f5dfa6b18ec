#!/usr/bin/env bash
# Realtime benchmark (docs/kpis.md is for figures; this measures pushes): 500 desk WebSockets on
# 2 uvicorn processes over Redis db 6, both channels-redis layers. About 2 minutes.
#   bench/realtime/run.sh [--desks 500] [--messages 100] [--gap 250] [--layers core,pubsub]
set -euo pipefail
cd "$(dirname "$0")/../.."
exec .venv/bin/python bench/realtime/bench.py "$@"
