"""Running OTP bot as production software: what an operator uses to see that an install is healthy.

`doctor/`: `otp doctor`, a checklist of a live install (the Slack tokens and scopes, the
channels and people the chart names, the request URL, the store and its migrations, the
schedules' next runs), each failure with its fix.
"""
