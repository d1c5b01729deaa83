"""The Slack surface: the Bolt app (`app`), what meets a request before Bolt (`ingress`),
one listener module per feature (`listeners/`), pure Block Kit builders for messages, modals
and App Home (`views/`), who clicked (`identity`), the Web API client (`client`), and the one
place a failure becomes a friendly reply (`errors`)."""
