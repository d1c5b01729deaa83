"""Slack listeners, one module a feature, each with `register(app, deps)`."""
