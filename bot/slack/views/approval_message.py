"""The approval message and its modals: pure builders from a DraftContext to Block Kit.

Everything that came from data (the agent's title and body, names, reasons) passes the
one mrkdwn escape, so `<!channel>` in a draft is shown, never sent as a ping. The only
markup added here is our own: dates, channel links and mentions built from validated ids.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    InputBlock,
    PlainTextInputElement,
)

from otp_bot.commands.views import blocks
from otp_bot.commands.views.describe import holder_text, metric_line, status_legend
from otp_bot.commands.views.render import Mrkdwn, escape, inline, render, truncate
from otp_bot.store.domain.clock import as_utc
from otp_bot.store.domain.gate.drafts import SLACK_TARGET
from otp_bot.store.domain.gate.queries import DraftContext
from otp_bot.store.domain.gate.reading import current_text
from otp_bot.store.models import Draft

APPROVE, EDIT, REJECT, FULL_TEXT = "otp_draft_approve", "otp_draft_edit", "otp_draft_reject", "otp_draft_full"
RETRY_DELIVERY = "otp_draft_retry_delivery"
REQUEST_CHANGES, SHOW_CHANGES = "otp_draft_request_changes", "otp_draft_show_changes"
EDIT_VIEW, REJECT_VIEW, CHANGES_VIEW = "otp_draft_edit_view", "otp_draft_reject_view", "otp_draft_changes_view"
PREVIEW = 2_500  # body characters shown in the message; the rest is one click away
MODAL_INPUT = 3_000  # Slack's plain_text_input limit: longer bodies cannot be edited in Slack
DIFF_LIMIT = 1_500


def slack_date(when: dt.datetime | None) -> Mrkdwn:
    """A date every reader sees in their own timezone, with a UTC fallback."""
    if when is None:
        return Mrkdwn("")
    when = as_utc(when)
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return Mrkdwn(f"<!date^{int(when.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>")


def destination_text(destination: str | None) -> Mrkdwn | str | None:
    if not destination:
        return None
    if SLACK_TARGET.match(destination):
        # A channel link does not ping; a user mention would, so a person is named by id.
        return Mrkdwn(f"<#{destination}>") if destination[0] in "CG" else Mrkdwn(f"a DM to `{destination}`")
    return Mrkdwn(f"the callback `{escape(destination)}`")


def quoted(text: str, limit: int = PREVIEW) -> tuple[Mrkdwn, bool]:
    """The body as a block quote, escaped; True when it was cut short."""
    cut = len(text) > limit
    shown = text[:limit].rstrip() + ("…" if cut else "")
    return Mrkdwn("\n".join(">" + escape(line) for line in shown.splitlines() or [""])), cut


def edit_diff(before: str, after: str) -> Mrkdwn:
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=1))[2:]
    text = truncate("\n".join(lines), DIFF_LIMIT)
    return Mrkdwn("```" + escape(text) + "```") if text else Mrkdwn("")


def _buttons(draft: Draft, cut: bool) -> dict[str, Any]:
    value = str(draft.id)
    elements = [ButtonElement(text="Approve", action_id=APPROVE, value=value, style="primary")]
    if len(current_text(draft)) <= MODAL_INPUT:
        elements.append(ButtonElement(text="Edit & approve", action_id=EDIT, value=value))
    elements.append(ButtonElement(text="Request changes", action_id=REQUEST_CHANGES, value=value))
    elements.append(ButtonElement(text="Reject", action_id=REJECT, value=value, style="danger"))
    elements.extend(_reading_buttons(draft, cut))
    return ActionsBlock(block_id=f"otp_draft_{draft.id}", elements=elements).to_dict()


def _reading_buttons(draft: Draft, cut: bool) -> list[ButtonElement]:
    """Buttons that only show something: the whole text, and a revision's changes."""
    value = str(draft.id)
    shown = []
    if cut:
        shown.append(ButtonElement(text="Show full text", action_id=FULL_TEXT, value=value))
    if draft.revises is not None:
        shown.append(ButtonElement(text="Show changes", action_id=SHOW_CHANGES, value=value))
    return shown


def fallback_text(draft: Draft) -> str:
    # The notification text is mrkdwn too: escaped like everything else from data.
    return Mrkdwn(
        escape(f"Draft #{draft.id} from {draft.seat.title} ({draft.kind}): ")
        + inline(draft.title)
        + escape(f" [{draft.status}]")
    )


def moved_to(c: DraftContext) -> Mrkdwn:
    """Where a re-routed draft waits now: its channel, or its approvers' direct messages."""
    channel = c.draft.route_channel
    if channel:
        return Mrkdwn(f"<#{channel}>") if SLACK_TARGET.match(channel) else escape(channel)
    return escape(f"a direct message to {c.approvers}")


def draft_head(d: Draft, title: str) -> list[dict[str, Any]]:
    """A draft's message starts so: the title, then what it is, who drafted it and where it goes."""
    return [
        blocks.header(title),
        blocks.section(
            render(
                "gate/approval_head.j2",
                d=d,
                drafter=holder_text(d.drafter),
                destination=destination_text(d.destination),
            )
        ),
    ]


def approval_message(c: DraftContext, moved: bool = False) -> dict[str, Any]:
    """`text` and `blocks` for chat.postMessage / chat.update: the draft as it is now.

    `moved`: the message the draft left when its approval route changed; while the draft
    waits it says where it went instead of offering buttons."""
    d = c.draft
    moved = moved and d.status == "pending"
    body, cut = quoted(current_text(d))
    out = [*draft_head(d, f"Draft #{d.id} for approval: {d.kind}"), blocks.section(body)]
    context = render(
        "gate/approval_context.j2", c=c, off_track=[metric_line(r) for r in c.off_track[:5]], legend=status_legend()
    )
    if context:
        out.append(blocks.context(*context.splitlines()[:10]))
    decider = d.decisions[-1].holder.name if d.decisions else ""
    out.append(
        blocks.section(
            render(
                "gate/approval_status.j2",
                d=d,
                c=c,
                decider=decider,
                when=slack_date(d.decided_at),
                expires=slack_date(d.expires_at),
                delivered=slack_date(d.delivered_at),
            )
        )
    )
    if d.edited:
        diff = edit_diff(d.body, current_text(d))
        if diff:
            out.append(blocks.section(Mrkdwn("*Edits:*\n" + diff)))
    if moved:
        out.append(blocks.section(render("gate/approval_moved.j2", d=d, where=moved_to(c))))
    elif d.status == "pending":
        out.append(_buttons(d, cut))
    else:
        elements = []
        if d.status == "approved" and d.delivery == "failed":  # the accountable human (or an operator) may ask again
            elements.append(ButtonElement(text="Retry delivery", action_id=RETRY_DELIVERY, value=str(d.id)))
        elements.extend(_reading_buttons(d, cut))
        if elements:
            out.append(ActionsBlock(block_id=f"otp_draft_{d.id}", elements=elements).to_dict())
    return {"text": fallback_text(d), "blocks": out}


# ------------------------------------------------------------------------- modals


def _modal(
    title: str,
    blocks_: list[dict[str, Any]],
    *,
    callback_id: str | None = None,
    submit: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "title": {"type": "plain_text", "text": truncate(title, 24)},
        "close": {"type": "plain_text", "text": "Cancel" if submit else "Close"},
        "blocks": blocks_[:100],
    }
    if callback_id:
        view["callback_id"] = callback_id
    if submit:
        view["submit"] = {"type": "plain_text", "text": submit}
    if metadata is not None:
        view["private_metadata"] = json.dumps(metadata)
    return view


def edit_modal(draft: Draft, channel: str, ts: str) -> dict[str, Any]:
    text = current_text(draft)
    field = InputBlock(
        block_id="text",
        label="The text that goes out",
        element=PlainTextInputElement(
            action_id="text", multiline=True, initial_value=text[:MODAL_INPUT], max_length=MODAL_INPUT
        ),
    )
    return _modal(
        f"Edit draft #{draft.id}",
        [blocks.section(Mrkdwn(f"*{inline(draft.title)}*")), field.to_dict()],
        callback_id=EDIT_VIEW,
        submit="Approve",
        metadata={"draft": draft.id, "channel": channel, "ts": ts},
    )


def reject_modal(draft: Draft, channel: str, ts: str) -> dict[str, Any]:
    field = InputBlock(
        block_id="reason",
        label="Why? The drafter reads this",
        element=PlainTextInputElement(action_id="reason", multiline=True, min_length=1, max_length=2000),
    )
    return _modal(
        f"Reject draft #{draft.id}",
        [blocks.section(Mrkdwn(f"*{inline(draft.title)}*")), field.to_dict()],
        callback_id=REJECT_VIEW,
        submit="Reject",
        metadata={"draft": draft.id, "channel": channel, "ts": ts},
    )


def changes_modal(draft: Draft, channel: str, ts: str, last_round: bool = False) -> dict[str, Any]:
    field = InputBlock(
        block_id="changes",
        label="What should change? The drafter reads this",
        element=PlainTextInputElement(action_id="changes", multiline=True, min_length=1, max_length=2000),
    )
    shown = [blocks.section(Mrkdwn(f"*{inline(draft.title)}*"))]
    if last_round:
        shown.append(
            blocks.context(
                f"This is round {draft.round}, the last its route allows: asking for changes rejects it, "
                "with every request as the reason."
            )
        )
    return _modal(
        f"Changes to #{draft.id}",
        [*shown, field.to_dict()],
        callback_id=CHANGES_VIEW,
        submit="Request changes",
        metadata={"draft": draft.id, "channel": channel, "ts": ts},
    )


def show_changes_modal(draft: Draft, previous: Draft) -> dict[str, Any]:
    """A revision against the version before it: what the drafter changed, and what was asked."""
    asked = previous.change_request
    head = [blocks.section(Mrkdwn(f"*{inline(draft.title)}*"))]
    if asked is not None:
        head.append(blocks.section(Mrkdwn(f"*{escape(asked.holder.name)} asked:* " + escape(asked.text))))
    diff = edit_diff(previous.body, draft.body)
    if previous.title != draft.title:
        head.append(blocks.section(Mrkdwn(f"*Title was:* {inline(previous.title)}")))
    since = Mrkdwn(f"*Changes since draft #{previous.id}:*\n" + diff) if diff else escape("The text is the same.")
    head.append(blocks.section(since))
    return _modal(f"Changes in #{draft.id}", head)


def previous_version_text(previous: Draft, revision: Draft) -> str:
    """The thread reply that keeps a replaced version: what it said and what was asked of it."""
    body, _ = quoted(previous.body)
    return render("gate/previous_version.j2", p=previous, r=revision, body=body, asked=previous.change_request)


def full_text_modal(draft: Draft) -> dict[str, Any]:
    text = current_text(draft)
    chunks = [text[i : i + 2900] for i in range(0, len(text), 2900)] or [""]
    sections = [blocks.section(Mrkdwn(escape(chunk))) for chunk in chunks[:98]]
    if len(chunks) > 98:
        sections.append(blocks.context("The text goes on; `otp draft show` prints all of it."))
    return _modal(f"Draft #{draft.id}", [blocks.section(Mrkdwn(f"*{inline(draft.title)}*")), *sections])


def notice_modal(draft_id: str, text: str) -> dict[str, Any]:
    """A modal that only tells something (a decision being saved, its result)."""
    return _modal(f"Draft #{draft_id}"[:24], [blocks.section(escape(text[:2900]))])


def notice_text(event: str, c: DraftContext) -> str:
    return render(
        "gate/draft_notice.j2", event=event, d=c.draft, outcome=c.outcome, queued=slack_date(c.draft.queued_at)
    )


def reminder_text(c: DraftContext, people: list[str]) -> str:
    mentions = Mrkdwn(" ".join(f"<@{p}>" for p in people if SLACK_TARGET.match(p)))
    return render(
        "gate/draft_reminder.j2",
        d=c.draft,
        mentions=mentions,
        queued=slack_date(c.draft.queued_at),
        expires=slack_date(c.draft.expires_at),
    )
