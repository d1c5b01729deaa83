#!/usr/bin/env bash
# The house's checks, as CI runs them: lint, format and types. Fix what they find; a noqa or
# type: ignore that stays says why on its line.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
echo "-- ruff check"
"$VENV/bin/ruff" check .
echo "-- ruff format --check"
"$VENV/bin/ruff" format --check .
echo "-- mypy"
VENV="$VENV" bash scripts/typecheck.sh
