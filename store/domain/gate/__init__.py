"""The human gate: drafts submitted and decided (`drafts`), where they go (`routing`),
what holds them (`policies`, `flags`), time acting on them (`timers`), the chart governing
them (`follow_chart`), reads for the surfaces (`queries`) and delivery once approved
(`delivery`, `callback_targets`)."""
