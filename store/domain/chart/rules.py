"""The org's operating rules (OTP's claims), kept with the chart: which seats they name,
and finding them.

A rule names the seats its claim's `related_entities` point at. A claim without them (an
`.oos.md` claim, a starter YAML claim) names the seats whose title, holder's name or alias
appears in its rule or scope, as whole words. Rules are found by topic with who-owns'
normalisation (search.normalize) and a fuzzy word match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain.chart.cache import per_chart
from otp_bot.store.domain.chart.chartfile.rule_spec import RuleSpec
from otp_bot.store.domain.chart.chartfile.schema import ChartSpec
from otp_bot.store.domain.chart.search import normalize
from otp_bot.store.models import Rule, Seat


def _pattern(words: str) -> re.Pattern[str] | None:
    words = words.strip()
    if len(words) < 3:
        return None
    return re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words.split()) + r"(?!\w)", re.I)


def name_seats(chart: ChartSpec, rules: list[RuleSpec]) -> list[RuleSpec]:
    """`rules`, each naming the chart's seats its text mentions when its claim named none."""
    if all(rule.seats or "related_entities" in rule.extra for rule in rules):
        return list(rules)  # every rule names its seats: no seat's names need compiling
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


# ---------------------------------------------------------------- reading the stored rules

RULE_MATCH = 80.0  # a rule's text scored against a topic (0-100) at least this is an answer
SHOWN = 10


@dataclass(frozen=True)
class Found:
    rule: Rule
    score: float


def all_rules(session: Session) -> list[Rule]:
    return list(session.scalars(select(Rule).order_by(Rule.position, Rule.id)))


def rules_naming(session: Session, seat_id: str) -> list[Rule]:
    """The rules that name a seat, in chart order."""
    return [r for r in all_rules(session) if seat_id in r.seats]


@dataclass(frozen=True)
class RuleLine:
    id: str
    rule: str


def rule_lines_naming(session: Session, seat_id: str) -> tuple[RuleLine, ...]:
    """`rules_naming` as plain lines, kept per chart version: rules change only with the
    chart (an import replaces them and gives the org a new etag), and every who-owns and
    seat answer lists them."""
    return per_chart(session, "rules by seat", _lines_by_seat).get(seat_id, ())


def _lines_by_seat(session: Session) -> dict[str, tuple[RuleLine, ...]]:
    by_seat: dict[str, list[RuleLine]] = {}
    for rule in all_rules(session):
        line = RuleLine(rule.id, rule.rule)
        for seat_id in dict.fromkeys(rule.seats):
            by_seat.setdefault(seat_id, []).append(line)
    return {seat_id: tuple(lines) for seat_id, lines in by_seat.items()}


def _haystack(rule: Rule, titles: dict[str, str]) -> str:
    parts = [
        rule.id,
        rule.section.replace("_", " "),
        rule.rule,
        rule.scope or "",
        rule.why or "",
        *(titles.get(s, s) for s in rule.seats),
    ]
    return normalize(" ".join(parts))


def search_rules(session: Session, topic: str, limit: int = SHOWN) -> list[Found]:
    """Rules about a topic, best first: matched like who-owns (typos, case, plurals,
    full-width letters), on the rule, its section, scope, why and the seats it names."""
    query = normalize(topic)
    if not query:
        return []
    exact = [r for r in all_rules(session) if r.id.lower() == topic.strip().lower()]
    if exact:
        return [Found(exact[0], 100.0)]
    titles = dict(session.execute(select(Seat.id, Seat.title)).tuples().all())
    found = []
    for rule in all_rules(session):
        text = _haystack(rule, titles)
        # Each word of the topic must be found in the rule (a typo allowed): the weakest word decides.
        score = min(
            fuzz.partial_ratio(w, text) if len(w) > 3 else (100.0 if f" {w} " in f" {text} " else 0.0)
            for w in query.split()
        )
        if score >= RULE_MATCH:
            found.append(Found(rule, score))
    found.sort(key=lambda f: -f.score)
    return found[:limit]
