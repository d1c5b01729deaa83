"""The scorecard: metrics and their kinds and units, reading values exactly, the rules a
value must pass, batches from agents, goals, periods and the weekly review."""
