"""What the /otp replies are built from: the mrkdwn escape and Jinja environment (`render`),
Block Kit helpers within Slack limits (`blocks`), plain views of chart objects, drafts and
messages, and the weekly scorecard post and its image."""
