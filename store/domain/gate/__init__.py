"""The human gate: drafts submitted, read and held (`drafts`), decided by people (`decisions`),
where they go (`routing`), what holds them (`policies`, `flags`), time acting on them
(`timers`), the chart governing them (`follow_chart`), what their changes queue for Slack
(`notices`), reads for the surfaces (`queries`) and delivery once approved (`delivery`,
`callback_targets`)."""
