#!/bin/sh
# The container's entrypoint: migrate first when asked, then become the command (exec), so
# it runs as PID 1 and receives the SIGTERM a container runtime sends to stop it.
#
#   OTP_MIGRATE_ON_START=true   run `otp db upgrade` before starting (one container on
#                               PostgreSQL; with several, let one job do it: compose.yaml)
#   no arguments, or only options (`--port 8080`): `otp serve --host 0.0.0.0 [options]`
#   anything else: run as given (`otp ask "chart"`, `otp db current`, `sh`)
set -eu

case "${1:-}" in
  "" | -*) set -- otp serve --host 0.0.0.0 "$@" ;;
esac

case "${OTP_MIGRATE_ON_START:-false}" in
  true | 1 | yes) otp db upgrade ;;
  false | 0 | no | "") ;;
  *)
    echo "OTP_MIGRATE_ON_START must be true or false, not '${OTP_MIGRATE_ON_START}'" >&2
    exit 2
    ;;
esac

exec "$@"
