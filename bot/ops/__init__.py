"""Running OTP bot as an operator would have it run: one module per concern.

- `health`: `/healthz` (the process answers) and `/readyz` (database, migrations, caches,
  Slack, the outbox worker, each named in its answer);
- `shutdown`: SIGTERM: new requests refused while the ones in flight finish;
- `backup`: `otp backup`: a consistent copy of the SQLite store while it is in use; for
  PostgreSQL, the pg_dump recipe;
- `retention`: old inbound events and finished outbox items purged now and then, by the rule
  in store/domain/retention.py;
- `context`: the request a log line belongs to (its id, surface, command, draft), carried in a
  context variable from the surface that took the request in;
- `requests`: where requests enter: an ASGI middleware around the web app (id, count, log line)
  and a Bolt middleware naming the kind of Slack request;
- `metrics`: the counters and histograms the process keeps (requests, commands, Slack calls,
  schedule runs, outbox failures), with bounded labels;
- `slack_calls`: every Slack Web API attempt counted, hooked into slack-sdk's WebClient once;
- `store_metrics`: gauges read from the store and the chart caches at scrape time, cheaply;
- `exposition`: GET /metrics, per app, with its optional token (OTP_METRICS_TOKEN);
- `logs`: the log's setup, plain text or JSON lines (OTP_LOG_FORMAT).
- `doctor/`: `otp doctor`, a checklist of a live install (the Slack tokens and scopes, the
  channels and people the chart names, the request URL, the store and its migrations, the
  schedules' next runs), each failure with its fix.
"""
