"""Running OTP bot as an operator would have it run: one module per concern.

`health` (`/healthz`: the process answers; `/readyz`: database, migrations, caches, Slack,
the outbox worker, each named in its answer), `shutdown` (SIGTERM: new requests refused
while the ones in flight finish), `backup` (`otp backup`: a consistent copy of the SQLite
store while it is in use; for PostgreSQL, the pg_dump recipe), `retention` (old inbound
events and finished outbox items purged now and then, by the rule in
store/domain/retention.py).
"""
