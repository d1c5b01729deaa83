"""/otp rules [topic]: the org's operating rules (OTP's claims), all or about a topic."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.commands.dispatch import command
from otp_bot.commands.parser import topic_words
from otp_bot.commands.reply import Reply
from otp_bot.commands.views import blocks
from otp_bot.commands.views.render import Mrkdwn, render
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.question import topic_of
from otp_bot.store.domain.chart.rules import all_rules, search_rules
from otp_bot.store.models import Rule, Seat

_ABOUT = re.compile(r"^(?:about|on|for|regarding|concerning)\s+", re.I)
LISTED = 30  # rules shown without a topic; a topic narrows them


def rule_lines(session: Session, rules: list[Rule]) -> list[dict[str, Any]]:
    """Each rule as its rendered block, the seats it names by title."""
    titles = dict(session.execute(select(Seat.id, Seat.title)).all())
    out = []
    for r in rules:
        view = {
            "id": r.id,
            "section": r.section.replace("_", " "),
            "confidence": r.confidence,
            "evidence": r.evidence,
            "rule": r.rule,
            "why": r.why,
            "failure_mode": r.failure_mode,
            "scope": r.scope,
            "seats": [titles.get(s, s) for s in r.seats],
        }
        out.append({"text": Mrkdwn(render("chart/rule_line.j2", r=view).rstrip("\n"))})
    return out


@command(
    "rules",
    "rules [topic]",
    "the org's operating rules (from OTP's claims), all or about a topic",
    aliases=("rule", "claims"),
)
def rules_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    question = topic_words("rules", tokens)
    # `rules about fees?` asks about fees, as `who owns churn?` asks about churn.
    topic = _ABOUT.sub("", topic_of(question)) if question else ""
    everything = all_rules(session)
    if topic:
        shown, more = [f.rule for f in search_rules(session, topic)], 0
    else:
        shown, more = everything[:LISTED], max(0, len(everything) - LISTED)
    text = render("chart/rules.j2", topic=topic, rules=rule_lines(session, shown), more=more, total=len(everything))
    return Reply(text=text, blocks=[blocks.section(chunk) for chunk in chunks(text)])


def chunks(text: str, limit: int = 2900) -> list[str]:
    """The text in pieces a section block holds whole (Slack cuts one at 3,000), split between rules."""
    first, *rest = text.split("\n• ")
    out: list[str] = []
    for part in [first, *("• " + r for r in rest)]:
        if out and len(out[-1]) + len(part) + 1 <= limit:
            out[-1] += "\n" + part
        else:
            out.append(part)
    return out
