#!/usr/bin/env bash
# Horizontal scale, shown: 3 `butler serve` on one port (SO_REUSEPORT) + `butler scheduler`, on a
# scratch PostgreSQL database and the local Redis, with the fake WeChat and Bot APIs.
# Checks dedupe, a single 接单 winner, a no-duplicate broadcast and a single daily-report run
# across the processes; prints what it observed and exits non-zero if any guarantee failed.
# Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 (BENCH_PG_ADMIN_URL /
# BENCH_REDIS_URL to point elsewhere). Process logs: bench/logs/scale-*.log.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
exec "$PY" -m bench.scale "$@"
