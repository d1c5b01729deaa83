"""What the /otp replies are built from: the mrkdwn escape and Jinja environment (`render`),
Block Kit helpers within Slack limits (`blocks`), plain views of chart objects, drafts and
messages, the weekly scorecard post and its image, and the chart as a picture (`chart_layout`
places the boxes and lines, `chart_image` draws them)."""
