"""/otp briefing, and the daily briefing as a Slack message within Slack's limits.

The main message shows every section with its first lines, the most pressing section
first. Posted in a channel, the rest of a long section goes to replies in the message's
thread (themselves within the limits, "and N more" past a cap); as an ephemeral answer
the section says how many more there are and which command lists them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from otp_bot.commands.dispatch import command
from otp_bot.commands.parser import Usage
from otp_bot.commands.reply import Reply
from otp_bot.commands.views import blocks
from otp_bot.commands.views.render import Mrkdwn, escape, render
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.clock import as_utc
from otp_bot.store.domain.rhythm.daily_briefing import DailyBriefing, daily_briefing
from otp_bot.store.domain.rhythm.run_history import last_posted

MAIN_LINES = 5  # per section in the main message
_END = Mrkdwn("<end of line>")  # after each line of a section: escaped data never holds a `<`
THREAD_LINES = 150  # per section in the thread
MAX_REPLIES = 6
LINE_CHARS = 400
SECTION_CHARS = blocks.SECTION_TEXT - 200
HINTS = {
    "waiting": "/otp drafts",
    "held": "/otp drafts all --status held",
    "off_track": "/otp scorecard",
    "late_todo": "/otp todos all",
    "flag": "/otp flags",
}


@dataclass
class BriefingMessage:
    text: str  # the notification: a one-line summary
    blocks: list[dict[str, Any]]
    replies: list[dict[str, Any]] = field(default_factory=list)  # {"text", "blocks"} for the thread
    full_text: str = ""  # every section's first lines, for a terminal


@dataclass
class _Section:
    kind: str
    title: str
    lines: list[str]
    total: int


def span(delta: dt.timedelta) -> str:
    """`5m`, `3h`, `2d`: a duration in its largest whole unit."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}m"
    return f"{minutes // 60}h" if minutes < 1440 else f"{minutes // 1440}d"


def _cut(line: str, limit: int = LINE_CHARS) -> str:
    if len(line) <= limit:
        return line
    # Never leave half an entity (`&am`) behind: Slack would show it as typed.
    return re.sub(r"&[a-z]*$", "", line[: limit - 1]) + "…"


def _sections(b: DailyBriefing, cap: int) -> list[_Section]:
    zone = ZoneInfo(b.timezone)

    def local(when: dt.datetime) -> str:
        return when.astimezone(zone).strftime("%a %d %b %H:%M")

    def lines(kind: str, items: list, extra) -> _Section:
        text = render("rhythm/briefing_lines.j2", kind=kind, rows=[(i, extra(i)) for i in items[:cap]], end=_END)
        shown = [_cut(line.strip()) for line in text.split(_END)[:-1]]
        count = b.off_track_total if kind == "off_track" else len(items)  # only the first misses are listed
        title = render("rhythm/briefing_title.j2", kind=kind, count=count, new=len(b.new_flags))
        return _Section(kind, title, shown, count)

    since = lambda when: {"age": span(b.now - when)}  # noqa: E731
    out = []
    if b.waiting:
        out.append(lines("waiting", [b.waiting], lambda i: since(i.oldest_since)))
    for kind, items, extra in (
        ("held", b.held, lambda i: since(i.since)),
        ("overdue", b.overdue, lambda i: since(i.deadline)),
        ("late_todo", b.late_todos, lambda i: {"due": i.due.strftime("%a %d %b")}),
        ("off_track", b.off_track, lambda i: {}),
        ("stale", b.stale, lambda i: {}),
        ("flag", b.flags, lambda i: {"until": local(i.until) if i.until else ""}),
        ("change", b.changes, lambda i: {**since(i.at), "by": _who(i.by)}),
        ("stamp", b.stamps, lambda i: {"share": _percent(i.unedited_share), "fast": _seconds(i.median_seconds)}),
        ("rising", b.rising, lambda i: {"recent": _percent(i.recent_rate), "before": _percent(i.before_rate)}),
        (
            "agent",
            b.agents,
            lambda i: {**(since(i.last_at) if i.last_at else {"age": ""}), "window": span(b.activity_window)},
        ),
    ):
        if items:
            out.append(lines(kind, items, extra))
    return out


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def _seconds(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else span(dt.timedelta(seconds=seconds))


def _who(actor: str) -> str:
    kind, _, name = actor.partition(":")
    return {
        "operator": "an operator" if name in ("cli", "operator", "example") else f"operator {name}",
        "holder": name,
        "policy": f"policy {name}",
    }.get(kind, actor)


def _summary(b: DailyBriefing, day: str) -> Mrkdwn:
    parts = []
    if b.waiting:
        parts.append(f"{b.waiting.count} draft{'s' if b.waiting.count != 1 else ''} waiting")
    for count, what in (
        (len(b.held), "held"),
        (len(b.overdue), "overdue requests"),
        (len(b.late_todos), "overdue to-dos"),
        (b.off_track_total, "off track"),
        (len(b.stale), "stale"),
        (len(b.flags), "flags"),
        (len(b.changes), "seat changes"),
        (len(b.stamps) + len(b.rising), "gate warnings"),
    ):
        if count:
            parts.append(f"{count} {what}")
    return render("rhythm/briefing_text.j2", org=b.org, day=day, quiet=b.quiet, parts=", ".join(parts))


def briefing_message(
    b: DailyBriefing, *, threaded: bool = True, late_by: dt.timedelta | None = None, due_at: dt.datetime | None = None
) -> BriefingMessage:
    """Build the message; `threaded` when it is posted (the rest goes to thread replies)."""
    zone = ZoneInfo(b.timezone)
    day = b.now.astimezone(zone).strftime("%A %d %B")
    fmt = lambda when: as_utc(when).astimezone(zone).strftime("%a %d %b %H:%M %Z")  # noqa: E731
    head = render(
        "rhythm/briefing_head.j2",
        org=b.org,
        since=fmt(b.since),
        off_track=b.off_track_total,
        metrics=b.metrics,
        late=late_by is not None,
        due=fmt(due_at) if due_at else "",
        posted=fmt(b.now),
    )
    budget = blocks.BlockBudget()
    budget.add(blocks.header(f"Daily briefing · {day}"))
    budget.add(blocks.context(head))
    if b.quiet:
        budget.add(blocks.section(render("rhythm/briefing_quiet.j2")))
    sections = _sections(b, THREAD_LINES if threaded else MAIN_LINES)
    to_thread: list[_Section] = []
    left_out: list[_Section] = []
    full: list[str] = [f"*Daily briefing · {escape(day)}*", head]
    for sec in sections:
        shown = sec.lines[:MAIN_LINES]
        more = sec.total - len(shown)
        body = "\n".join([sec.title, *shown])
        if more:
            body += "\n" + _more(sec.kind, more, threaded)
        full.append(body)
        if budget.add(blocks.section(body)):
            if more and threaded:
                to_thread.append(sec)
        else:
            (to_thread if threaded else left_out).append(sec)
    if left_out:
        budget.close(
            f"{len(left_out)} more section{'s' if len(left_out) != 1 else ''} did not fit: "
            + ", ".join(re.sub(r"[*_]", "", s.title.split("(")[0]).strip() for s in left_out)
        )
    return BriefingMessage(_summary(b, day), budget.blocks, _replies(to_thread) if threaded else [], "\n\n".join(full))


def _more(kind: str, more: int, threaded: bool) -> str:
    if threaded:
        return f"_and {more} more in the thread_"
    hint = HINTS.get(kind)
    return f"_and {more} more_" + (f": `{hint}`" if hint else "")


def _replies(sections: list[_Section]) -> list[dict[str, Any]]:
    """The long sections in full (up to THREAD_LINES each), packed into thread replies."""
    replies: list[list[dict[str, Any]]] = []
    budget = blocks.BlockBudget()
    dropped = 0
    for sec in sections:
        chunks = _chunks([sec.title, *sec.lines])
        if sec.total > len(sec.lines):
            chunks[-1] += (
                "\n"
                + f"_and {sec.total - len(sec.lines)} more_"
                + (f": `{HINTS[sec.kind]}`" if sec.kind in HINTS else "")
            )
        for chunk in chunks:
            if budget.add(blocks.section(chunk)):
                continue
            replies.append(budget.blocks)
            budget = blocks.BlockBudget()
            if len(replies) >= MAX_REPLIES:
                dropped += 1
                continue
            budget.add(blocks.section(chunk))
    if budget.blocks and len(replies) < MAX_REPLIES:
        replies.append(budget.blocks)
    if dropped and replies:
        replies[-1].append(blocks.context("The thread is full; the lists above are cut short."))
    return [{"text": "Daily briefing, continued", "blocks": r} for r in replies[:MAX_REPLIES]]


def _chunks(lines: list[str]) -> list[str]:
    out, cur = [], ""
    for line in lines:
        if cur and len(cur) + len(line) + 1 > SECTION_CHARS:
            out.append(cur)
            cur = ""
        cur = f"{cur}\n{line}" if cur else line
    out.append(cur)
    return out


# ---------------------------------------------------------------- /otp briefing


@command(
    "briefing",
    "briefing",
    "what needs a human today: drafts, held drafts, off-track and stale metrics, flags, seat changes, agents",
    aliases=("brief", "today"),
)
def briefing_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    if tokens:
        raise Usage("briefing takes no arguments")
    last = last_posted(session, "briefing")
    b = daily_briefing(session, since=as_utc(last.posted_at) if last else None)
    message = briefing_message(b, threaded=False)
    return Reply(text=message.full_text[:3900], blocks=message.blocks)
