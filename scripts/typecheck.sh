#!/usr/bin/env bash
# Type-check the package as it is imported: `otp_bot.bot`, `otp_bot.store`, ... The
# top-level folders are mapped under `otp_bot` by pyproject's package-dir, which mypy does
# not read, so it is given a view of the tree under that name (symlinks, rebuilt each run).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
view=.typecheck/otp_bot
rm -rf .typecheck
mkdir -p "$view"
for folder in bot commands store templates examples; do
  ln -s "../../$folder" "$view/$folder"
done
MYPYPATH=.typecheck exec "$VENV/bin/python" -m mypy -p otp_bot "$@"
