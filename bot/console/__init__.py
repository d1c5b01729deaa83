"""`otp shell`: the real Bolt app in-process, against a built-in stand-in for Slack."""
