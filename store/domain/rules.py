"""The org's operating rules (OTP's claims), kept with the chart: which seats they name.

A rule names the seats its claim's `related_entities` point at. A claim without them (an
`.oos.md` claim, a starter YAML claim) names the seats whose title, holder's name or alias
appears in its rule or scope, as whole words.
"""

from __future__ import annotations

import re

from otp_bot.store.domain.chartfile import ChartSpec
from otp_bot.store.domain.rule_spec import RuleSpec


def _pattern(words: str) -> re.Pattern[str] | None:
    words = words.strip()
    if len(words) < 3:
        return None
    return re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words.split()) + r"(?!\w)", re.I)


def name_seats(chart: ChartSpec, rules: list[RuleSpec]) -> list[RuleSpec]:
    """`rules`, each naming the chart's seats its text mentions when its claim named none."""
    holders = {h.id: h.name for h in chart.holders}
    patterns: list[tuple[str, list[re.Pattern[str]]]] = []
    for seat in chart.seats:
        names = [seat.title, *seat.aliases] + ([holders[seat.holder]] if seat.holder in holders else [])
        patterns.append((seat.id, [p for n in dict.fromkeys(names) if (p := _pattern(n))]))
    out = []
    for rule in rules:
        if rule.seats or "related_entities" in rule.extra:
            out.append(rule)
            continue
        text = " ".join(t for t in (rule.rule, rule.scope) if t)
        seats = [sid for sid, pats in patterns if any(p.search(text) for p in pats)]
        out.append(rule.model_copy(update={"seats": seats}) if seats else rule)
    return out
