"""What changed in the chart's `approvals:` routes, in words a reviewer of an import reads.

"growth removed from route 1; omar no longer approves", not "routes 1 → 1". Routes have no names,
so they are compared by position (route 1 is the first in the file).
"""

from __future__ import annotations

from otp_bot.store.domain.chart.chartfile.schema import ROUTE_TIMINGS, ApprovalSpec


def _names(items: list[str]) -> str:
    return ", ".join(items)


def _place(route: ApprovalSpec) -> str:
    return f"channel {route.channel}" if route.channel else "direct messages"


def _summary(route: ApprovalSpec) -> str:
    parts = [f"seats {_names(route.seats)}"]
    if route.kinds:
        parts.append(f"kinds {_names(route.kinds)}")
    parts.append(f"in {_place(route)}")
    if route.approvers:
        parts.append(f"approvers {_names(route.approvers)}")
    if route.usergroup:
        parts.append(f"user group {route.usergroup}")
    if route.required > 1:
        parts.append(f"{route.required} approvals required")
    return ", ".join(parts)


def _autonomy(route: ApprovalSpec) -> str:
    rule = route.autonomy
    if rule is None:
        return "none"
    return f"{_names(rule.kinds)} after {rule.after} unedited approvals, {rule.sample}% reviewed"


def _one(n: int, old: ApprovalSpec, new: ApprovalSpec, gone: set[str], joined: set[str]) -> list[str]:
    words: list[str] = []
    if added := [s for s in new.seats if s not in old.seats]:
        words.append(f"{_names(added)} added to route {n}")
    if removed := [s for s in old.seats if s not in new.seats]:
        words.append(f"{_names(removed)} removed from route {n}")
    if sorted(k.lower() for k in old.kinds) != sorted(k.lower() for k in new.kinds):
        words.append(
            f"route {n} covers {('kinds ' + _names(new.kinds)) if new.kinds else 'every kind'} "
            f"(was {('kinds ' + _names(old.kinds)) if old.kinds else 'every kind'})"
        )
    if old.channel != new.channel:
        words.append(f"route {n} moved from {_place(old)} to {_place(new)}")
    # A person who approves nowhere any more is said once, for the whole chart (below).
    if added := [a for a in new.approvers if a not in old.approvers and a not in joined]:
        words.append(f"{_names(added)} {'approve' if len(added) > 1 else 'approves'} route {n}")
    if removed := [a for a in old.approvers if a not in new.approvers and a not in gone]:
        words.append(f"{_names(removed)} no longer {'approve' if len(removed) > 1 else 'approves'} route {n}")
    if old.usergroup != new.usergroup:
        words.append(f"route {n} user group {old.usergroup or '(none)'} → {new.usergroup or '(none)'}")
    if old.required != new.required:
        words.append(f"route {n} needs {new.required} approval{'s' if new.required > 1 else ''} (was {old.required})")
    if old.max_rounds != new.max_rounds:
        words.append(
            f"route {n} allows {new.max_rounds or 'the default'} rounds (was {old.max_rounds or 'the default'})"
        )
    if old.autonomy != new.autonomy:
        words.append(f"route {n} autonomy: {_autonomy(new)} (was {_autonomy(old)})")
    for name in ROUTE_TIMINGS:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            words.append(f"route {n} {name.replace('_', ' ')} {after or 'the default'} (was {before or 'the default'})")
    if not words and old != new:
        words.append(f"route {n} approvers reordered")
    return words


def route_changes(old: list[ApprovalSpec], new: list[ApprovalSpec]) -> list[str]:
    """One short phrase per change, route by route, then who approves nowhere any more."""
    before = {a for r in old for a in r.approvers}
    after = {a for r in new for a in r.approvers}
    gone, joined = before - after, after - before
    words: list[str] = []
    for i in range(max(len(old), len(new))):
        n = i + 1
        if i >= len(old):
            words.append(f"route {n} added ({_summary(new[i])})")
        elif i >= len(new):
            words.append(f"route {n} removed ({_summary(old[i])})")
        else:
            words += _one(n, old[i], new[i], gone, joined)
    words += [f"{a} now approves" for a in sorted(joined)]
    words += [f"{a} no longer approves" for a in sorted(gone)]
    return words
