"""The approver's queue on the Home, and the "approve these" modal: pure builders to Block Kit.

The modal shows each draft it offers in full (title, text, destination, flags on the
subject); a draft that does not fit whole is left out and said to be, so nothing is
approved that was not on screen. What it shows is what it carries: the ids and
fingerprints in its metadata are built from the very drafts it laid out."""

from __future__ import annotations

import json
from typing import Any

from otp_bot.bot.slack.views.approval_message import destination_text, slack_date
from otp_bot.commands.views import blocks
from otp_bot.commands.views.drafts import age
from otp_bot.commands.views.render import Mrkdwn, escape, inline, truncate
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.gate.batch import MAX_BATCH, Batch, Queue, Shown

REVIEW = "otp_queue_review"  # + ":<n>": action ids are unique within a view
BATCH_VIEW = "otp_queue_batch"
GROUPS_SHOWN = 10
TITLES_SHOWN = 3  # the oldest drafts of a group named on the Home
MODAL_BLOCKS = 100
MODAL_CHARS = 100_000
CHUNK = 2_900


def queue_blocks(found: Queue) -> list[dict[str, Any]]:
    """The queue's groups, each with its count and an "approve these" button."""
    total = sum(g.count for g in found.groups)
    now = utcnow()
    more = "+" if found.more else ""
    head = f"*Drafts waiting for your decision* ({total}{more}), grouped, the longest waiting first"
    out = [blocks.section(Mrkdwn(head))]
    for n, group in enumerate(found.groups[:GROUPS_SHOWN]):
        label = f"Approve these {group.count}" if group.count <= MAX_BATCH else f"Approve the oldest {MAX_BATCH}"
        titles = [
            f"• #{d.id} _{inline(truncate(d.title, 80))}_ ({age(d.queued_at or d.created_at, now)})"
            for d in group.drafts[:TITLES_SHOWN]
        ]
        if group.count > TITLES_SHOWN:
            titles.append(f"• and {group.count - TITLES_SHOWN} more")
        text = Mrkdwn(
            f"*{inline(truncate(group.kind, 64))}* · {inline(truncate(group.subject, 120))}: "
            f"*{group.count}* waiting\n" + "\n".join(titles)
        )
        section = blocks.section(text)
        section["block_id"] = f"otp_queue_{n}"
        section["accessory"] = {
            "type": "button",
            "action_id": f"{REVIEW}:{n}",
            "text": {"type": "plain_text", "text": label},
            "value": json.dumps({"kind": group.kind, "subject": group.subject}),
        }
        out.append(section)
    if len(found.groups) > GROUPS_SHOWN or found.more:
        out.append(blocks.context("More than fit here: `/otp drafts` lists every draft."))
    return out


def _chunks(text: str) -> list[Mrkdwn]:
    """The text in escaped pieces that each fit a section whole (escaping lengthens `&`, `<`, `>`)."""
    out, i = [], 0
    while i < len(text):
        n = CHUNK
        while len(escape(text[i : i + n])) > blocks.SECTION_TEXT:
            n -= 250
        out.append(escape(text[i : i + n]))
        i += n
    return out


def _draft_blocks(shown: Shown) -> list[dict[str, Any]]:
    d = shown.draft
    where = destination_text(d.destination) or "nowhere (approved, it is only recorded)"
    head = Mrkdwn(
        f"*#{d.id} · {inline(d.title)}*\n{inline(d.seat.title)} ({inline(d.drafter.name)}) · "
        f"goes to {where} · queued {slack_date(d.queued_at)}"
    )
    body = [blocks.section(chunk) for chunk in _chunks(shown.text)] or [blocks.section(Mrkdwn("_(no text)_"))]
    out = [blocks.divider(), blocks.section(head), *body]
    if shown.flags:
        flags = "; ".join(
            f"{inline(f.flag)} by {inline(f.seat_id)}" + (f" ({inline(truncate(f.reason, 200))})" if f.reason else "")
            for f in shown.flags
        )
        out.append(blocks.context(Mrkdwn(f":triangular_flag_on_post: Flags on {inline(d.subject)}: {flags}")))
    return out


def batch_modal(batch: Batch) -> dict[str, Any]:
    """Every draft offered, whole; the metadata names exactly those."""
    intro = blocks.section(Mrkdwn("…"))
    out: list[dict[str, Any]] = []
    laid_out: list[Shown] = []
    size = 0
    for shown in batch.drafts:  # a draft is shown whole or not at all
        parts = _draft_blocks(shown)
        more = sum(len(json.dumps(b)) for b in parts)
        if len(out) + len(parts) > MODAL_BLOCKS - 2 or size + more > MODAL_CHARS:
            break
        out += parts
        size += more
        laid_out.append(shown)
    n, left = len(laid_out), batch.total - len(laid_out)
    if not n:
        return notice(
            f"Draft #{batch.drafts[0].draft.id} is too long to show here with others; "
            "decide it from its approval message."
        )
    intro["text"]["text"] = (
        f"Read each of these {n} {inline(batch.kind)} draft{'s' if n != 1 else ''} on {inline(batch.subject)}, "
        f"oldest first. Submitting approves each as its own decision; one that changed or was decided "
        f"meanwhile is skipped and reported."
        + (f"\n\n*{left} more* of this group wait and are not in this batch; approve them next." if left else "")
    )
    return {
        "type": "modal",
        "callback_id": BATCH_VIEW,
        "title": {"type": "plain_text", "text": truncate(f"Approve {n} drafts", 24)},
        "submit": {"type": "plain_text", "text": f"Approve these {n}"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [intro, *out],
        "private_metadata": json.dumps({"seen": [[s.draft.id, s.seen] for s in laid_out]}),
    }


def result_modal(approved: list[tuple[int, str]], skipped: list[tuple[int, str]]) -> dict[str, Any]:
    """What a batch did: each approved draft, each skipped one and why."""
    lines = [f":white_check_mark: *#{i}* {word}" for i, word in approved]
    lines += [f":no_entry_sign: *#{i}* skipped: {escape(why)}" for i, why in skipped]
    sections = [blocks.section(Mrkdwn(truncate("\n".join(lines[k : k + 10]), 2_900))) for k in range(0, len(lines), 10)]
    head = f"{len(approved)} approved" + (f", {len(skipped)} skipped" if skipped else "")
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": truncate(head, 24)},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": sections or [blocks.section("Nothing was approved.")],
    }


def notice(text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Your queue"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [blocks.section(escape(text[:2_900]))],
    }
