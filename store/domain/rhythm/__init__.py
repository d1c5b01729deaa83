"""The operating rhythm: schedules and their cron, the daily briefing, a holder's own briefing,
and the overview App Home shows."""
