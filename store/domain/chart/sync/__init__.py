"""Chart as code: the stored chart exported, compared with a file, and the file applied.

`export`, `diff` (with `route_diff`), `apply` (guarded by `history_guard`). Import is declarative
and idempotent: the file says what the chart is. The same file twice is "no changes". Everything
happens in the caller's transaction, so an error anywhere leaves the store as it was.
"""
