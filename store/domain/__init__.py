"""The domain layer: every rule of the product, as functions that take a session.

Grouped by what the rules are about: `chart/` (seats, the chart file and its import,
who-owns, the operating rules, the per-version caches), `scorecard/` (metrics, values,
goals, periods), `gate/` (drafts, decisions, routes, policies and flags, delivery),
`agents/` (tokens, the bus), `rhythm/` (schedules, briefings), `lifecycle/` (hire, assign,
vacate, retire). Beside them what every feature shares: who is asking (`actors`), errors,
the clock, the audit chain, the outbox and the inbound-event record, the text rule."""
