"""The weekly review in its Slack thread: pure builders (its modals and the headline prompt
are in review_forms.py).

The thread under the week's scorecard post: an opening reply (facilitator, *Start*), then
one reply per section as the facilitator moves through (scorecard, rocks, headlines,
to-dos with Done / Not done, issues by rank with Solve / Drop), then the summary. Every
value from data is escaped; names of people are Slack mentions.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from otp_bot.commands.views import blocks
from otp_bot.commands.views.blocks import BlockBudget, lines_to_sections
from otp_bot.commands.views.render import Mrkdwn, escape, inline, truncate
from otp_bot.store.domain.review.agenda import TodoLine
from otp_bot.store.domain.review.meetings import SECTIONS
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.review import ReviewRow
from otp_bot.store.models import Headline, Holder, Issue, Review, Rock, Seat

START, NEXT, END = "otp_review_start", "otp_review_next", "otp_review_end"
TODO_DONE, TODO_NOT_DONE = "otp_review_todo_done", "otp_review_todo_not_done"
SOLVE, DROP = "otp_review_solve", "otp_review_drop"
HEADLINE = "otp_review_headline"
SOLVE_VIEW, DROP_VIEW, HEADLINE_VIEW = "otp_review_solve_view", "otp_review_drop_view", "otp_review_headline_view"
# A row's buttons carry its to-do's or issue's id in their action id too: Slack wants action
# ids unique within a message. The listeners match the prefix.
TODO_ROWS = 3  # to-do rows in the Solve modal
MAX_FIELDS = 20  # metric fields in the headline modal
PART_CHARS = 3200  # each part of the summary (decisions, new to-dos, rocks) within Slack's ~11,000
TITLES = {
    "scorecard": "Scorecard: what is off track",
    "rocks": "Rocks: on or off track",
    "headlines": "Headlines",
    "todos": "To-dos due this week",
    "issues": "Issues, by priority",
}


def per_row(action: str) -> re.Pattern[str]:
    return re.compile(f"^{action}(_\\d+)?$")


def value(*parts: object) -> str:
    """A button's value: the review's id and what the button is about."""
    return ":".join(str(p) for p in parts)


def parse_value(raw: str) -> list[str]:
    return (raw or "").split(":")


def who(holder: Holder | None) -> str:
    if holder is None:
        return "nobody"
    return f"<@{holder.slack_user}>" if holder.slack_user else escape(holder.name)


def seat_owner(seat: Seat | None) -> str:
    if seat is None:
        return "a seat"
    return f"*{inline(seat.title)}* ({who(seat.holder)})"


def _button(text: str, action: str, val: str, style: str | None = None) -> dict[str, Any]:
    b: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action,
        "value": val,
    }
    if style:
        b["style"] = style
    return b


def _actions(block_id: str, *buttons: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "block_id": block_id[:255], "elements": list(buttons)}


def week_label(week: dt.date) -> str:
    return periods.label(week, "weekly")


# ---------------------------------------------------------------- the thread


def opening_message(review: Review, started_by: str | None = None) -> dict[str, Any]:
    """The thread's first reply: who facilitates, and *Start* until the review starts."""
    text = Mrkdwn(f"Weekly review · facilitator {who(review.facilitator)} · Start")
    head = f"*Weekly review* of {week_label(review.week)} · facilitator {who(review.facilitator)}\n"
    if review.status == "open":
        return {
            "text": text,
            "blocks": [
                blocks.section(
                    Mrkdwn(
                        head + "In order: scorecard, rocks, headlines, to-dos, issues. The facilitator starts it here."
                    )
                ),
                _actions(f"otp_review_{review.id}_open", _button("Start", START, value(review.id), "primary")),
            ],
        }
    state = {"running": "is running", "ended": "has ended", "not-held": "was not held"}.get(
        review.status, escape(review.status)
    )
    by = f" (started by {started_by})" if started_by and review.status == "ended" else f", started by {started_by}"
    by = by if started_by else ""
    return {"text": text, "blocks": [blocks.section(Mrkdwn(f"{head}The review {state}{by}."))]}


def _controls(review: Review, section: str) -> dict[str, Any]:
    buttons = []
    if section != SECTIONS[-1]:
        buttons.append(_button("Next section", NEXT, value(review.id, section), "primary"))
    buttons.append(_button("End", END, value(review.id), "danger" if section != SECTIONS[-1] else "primary"))
    return _actions(f"otp_review_{review.id}_{section}_controls", *buttons)


def _head(review: Review, section: str) -> list[dict[str, Any]]:
    n = SECTIONS.index(section) + 1
    return [blocks.section(Mrkdwn(f"*{n}/{len(SECTIONS)} · {escape(TITLES[section])}* · {week_label(review.week)}"))]


def _fit(head: list[dict[str, Any]], groups: Sequence[list[dict[str, Any]]], empty: str) -> list[dict[str, Any]]:
    """The head, then as many rows (each a group of blocks) as Slack's limits leave room for
    beside the controls, then "and N more"."""
    budget = BlockBudget(max_blocks=blocks.MAX_BLOCKS - 2, max_chars=blocks.TOTAL_TEXT - 1000)
    for b in head:
        budget.add(b)
    if not groups:
        budget.add(blocks.section(Mrkdwn(empty)))
    placed = 0
    for group in groups:
        room = len(budget.blocks) + len(group) <= blocks.MAX_BLOCKS - 4
        if not room or not all(budget.add(b) for b in group):
            break
        placed += 1
    if placed < len(groups):
        budget.blocks = budget.blocks[: len(head) + sum(len(g) for g in groups[:placed])]  # no half row
        budget.close(f"and {len(groups) - placed} more")
    return budget.blocks


def _clip(text: str | None, limit: int = 1200) -> str:
    """Data cut to a length before it is escaped, so an entity is never cut in half."""
    return escape(truncate(text or "", limit))


def scorecard_section(review: Review, rows: Sequence[ReviewRow]) -> dict[str, Any]:
    groups = [
        [
            blocks.section(
                Mrkdwn(
                    f"• {seat_owner(r.seat)} · {inline(r.row.metric.name)}: "
                    f"*{escape(r.row.show(r.row.latest.value if r.row.latest else None))}* "
                    f"(goal {escape(r.row.describe_goal())})"
                )
            )
        ]
        for r in rows
    ]
    out = _fit(_head(review, "scorecard"), groups, "Everything is on track.")
    return _section_message(review, "scorecard", f"{len(rows)} off track", out)


def _rock_line(r: Rock) -> str:
    track = ":large_green_circle: on" if r.track == "on" else ":red_circle: off"
    proposed = f" · proposed {escape(r.proposed_track)}, to confirm" if r.proposed_track else ""
    return f"{track} · {inline(truncate(r.title, 200))} (due {r.due.isoformat()}){proposed}"


def rocks_section(review: Review, seats: Sequence[tuple[Seat, list[Rock]]]) -> dict[str, Any]:
    groups = [
        [blocks.section(Mrkdwn(seat_owner(seat) + "\n" + "\n".join(_rock_line(r) for r in rocks)))]
        for seat, rocks in seats
    ]
    out = _fit(_head(review, "rocks"), groups, "No rocks this quarter.")
    off = sum(r.track == "off" for _, rocks in seats for r in rocks)
    return _section_message(review, "rocks", f"{off} rock(s) off track", out)


def headlines_section(review: Review, headlines: Sequence[Headline], names: dict[str, Holder]) -> dict[str, Any]:
    groups = [[blocks.section(Mrkdwn(f"• {who(names.get(h.holder_id))}: {_clip(h.text)}"))] for h in headlines]
    out = _fit(_head(review, "headlines"), groups, "No headlines this week.")
    return _section_message(review, "headlines", f"{len(headlines)} headline(s)", out)


def todo_row(review: Review, line: TodoLine, seats: dict[str, Seat], checkers: dict[str, str]) -> list[dict[str, Any]]:
    t = line.todo
    text = f"{inline(t.text)} · {seat_owner(seats.get(t.seat_id))} · due {t.due.isoformat()}"
    if line.check is not None:
        mark = ":white_check_mark: Done" if line.check.done else ":x: Not done"
        by = checkers.get(line.check.checked_by) or escape(line.check.checked_by)
        return [blocks.section(Mrkdwn(f"{text}\n{mark} · checked by {by}"))]
    return [
        blocks.section(Mrkdwn(text)),
        _actions(
            f"otp_review_todo_{t.id}",
            _button("Done", f"{TODO_DONE}_{t.id}", value(review.id, t.id), "primary"),
            _button("Not done", f"{TODO_NOT_DONE}_{t.id}", value(review.id, t.id)),
        ),
    ]


def todos_section(
    review: Review,
    lines: Sequence[TodoLine],
    seats: dict[str, Seat],
    checkers: dict[str, str],
    *,
    controls: bool = True,
) -> dict[str, Any]:
    groups = [todo_row(review, line, seats, checkers) for line in lines]
    out = _fit(_head(review, "todos"), groups, "No to-dos due this week.")
    return _section_message(review, "todos", f"{len(lines)} to-do(s) due", out, controls=controls)


def issue_row(review: Review, issue: Issue, seats: dict[str, Seat]) -> list[dict[str, Any]]:
    # A closed issue has left the order (the others moved up): it is named by its number alone.
    place = f"*{issue.rank}.* #{issue.id}" if issue.status in ("open", "discussed") else f"#{issue.id}"
    head = f"{place} {inline(truncate(issue.title, 200))} · {seat_owner(seats.get(issue.seat_id))}"
    if issue.status == "solved":
        return [blocks.section(Mrkdwn(f"{head}\n:white_check_mark: Solved: {_clip(issue.decision)}"))]
    if issue.status == "dropped":
        return [blocks.section(Mrkdwn(f"{head}\n:heavy_minus_sign: Dropped: {_clip(issue.decision)}"))]
    return [
        blocks.section(Mrkdwn(head + (f"\n{_clip(issue.detail)}" if issue.detail else ""))),
        _actions(
            f"otp_review_issue_{issue.id}",
            _button("Solve", f"{SOLVE}_{issue.id}", value(review.id, issue.id), "primary"),
            _button("Drop", f"{DROP}_{issue.id}", value(review.id, issue.id)),
        ),
    ]


def issues_section(
    review: Review, issues: Sequence[Issue], seats: dict[str, Seat], *, controls: bool = True
) -> dict[str, Any]:
    groups = [issue_row(review, issue, seats) for issue in issues]
    out = _fit(_head(review, "issues"), groups, "No open issues.")
    return _section_message(review, "issues", f"{len(issues)} issue(s)", out, controls=controls)


def _section_message(
    review: Review, section: str, gist: str, out: list[dict[str, Any]], *, controls: bool = True
) -> dict[str, Any]:
    if controls and review.status == "running":
        out.append(_controls(review, section))
    return {"text": Mrkdwn(f"Weekly review · {escape(TITLES[section])}: {escape(gist)}"), "blocks": out}


def summary_message(review: Review, summary: dict[str, Any], slack: dict[str, str]) -> dict[str, Any]:
    """The review's end: what it decided, the to-dos it made (owner, due), the checks, the rocks off track."""

    def mention(holder: str | None, fallback: str) -> str:
        user = slack.get(holder or "")
        return f"<@{user}>" if user else escape(fallback)

    decisions = [
        f"• {inline(truncate(i['title'], 200))}: {'solved' if i['status'] == 'solved' else 'dropped'} · "
        f"{_clip(i['decision'], 600)}"
        for i in summary.get("issues", [])
    ]
    todos = [
        f"• {inline(t['text'])} · {mention(t.get('holder'), t['seat'])} · due {escape(t['due'])}"
        for t in summary.get("todos", [])
    ]
    checks = summary.get("checks", [])
    done = sum(1 for c in checks if c["done"])
    rocks = [f"• {inline(r['title'])} (`{escape(r['seat'])}`)" for r in summary.get("rocks_off_track", [])]
    ended_by = (review.ended_by or "").removeprefix("holder:")
    out = [
        blocks.section(
            Mrkdwn(
                f"*Weekly review of {week_label(review.week)} ended* · run by {mention(ended_by, ended_by)}\n"
                f"To-dos checked: {done} done, {len(checks) - done} not done"
            )
        )
    ]
    # Each part its own share of the message: many decisions never crowd out the new to-dos.
    for title, lines in (("Decisions", decisions), ("New to-dos", todos), ("Rocks off track", rocks)):
        if lines or title != "Rocks off track":
            part = BlockBudget(max_blocks=15, max_chars=PART_CHARS)
            part.add(blocks.section(Mrkdwn(f"*{title}*" + ("" if lines else "\nnone"))))
            lines_to_sections(lines, part)
            out.extend(part.blocks)
    text = Mrkdwn(
        f"Weekly review ended: {len(decisions)} decision(s), {len(todos)} new to-do(s), "
        f"{done}/{len(checks)} to-dos done"
    )
    return {"text": text, "blocks": out}


def owner_dm(review: Review, todos: Sequence[dict[str, Any]]) -> dict[str, Any]:
    lines = [f"• {inline(t['text'])} · seat `{escape(t['seat'])}` · due {escape(t['due'])}" for t in todos]
    head = Mrkdwn(f"New to-dos for you from the weekly review of {week_label(review.week)}:")
    budget = BlockBudget()
    budget.add(blocks.section(head))
    lines_to_sections(lines, budget)
    return {"text": Mrkdwn(head + "\n" + truncate("\n".join(lines), 3500)), "blocks": budget.blocks}
