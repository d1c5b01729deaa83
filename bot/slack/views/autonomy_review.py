"""The review message of a sampled policy approval, and its modal: pure builders.

Posted where the draft's route posts approvals, after the draft went out: "approved by
policy, review", with **Looks right** and **Should not have gone** (which asks why and
revokes the seat's autonomy for the kind). Once reviewed, the message says who said what.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, InputBlock, PlainTextInputElement

from otp_bot.bot.slack.views.approval_message import _modal, draft_head, quoted, slack_date
from otp_bot.commands.views import blocks
from otp_bot.commands.views.render import Mrkdwn, escape, inline, render
from otp_bot.store.domain.gate.autonomy_grants import Review
from otp_bot.store.domain.gate.queries import DraftContext
from otp_bot.store.domain.gate.reading import current_text
from otp_bot.store.models import Draft

LOOKS_RIGHT, SHOULD_NOT = "otp_autonomy_right", "otp_autonomy_wrong"
SHOULD_NOT_VIEW = "otp_autonomy_wrong_view"


def review_message(c: DraftContext, review: Review | None) -> dict[str, Any]:
    d = c.draft
    body, _ = quoted(current_text(d))
    out = [
        *draft_head(d, f"Draft #{d.id} approved by policy: review"),
        blocks.section(body),
        blocks.section(
            render(
                "gate/autonomy_review.j2",
                d=d,
                review=review,
                when=slack_date(d.decided_at),
                delivered=slack_date(d.delivered_at),
            )
        ),
    ]
    if review is None:
        value = str(d.id)
        out.append(
            ActionsBlock(
                block_id=f"otp_review_{d.id}",
                elements=[
                    ButtonElement(text="Looks right", action_id=LOOKS_RIGHT, value=value, style="primary"),
                    ButtonElement(text="Should not have gone", action_id=SHOULD_NOT, value=value, style="danger"),
                ],
            ).to_dict()
        )
    text = Mrkdwn(
        escape(f"Draft #{d.id} from {d.seat.title} ({d.kind}) was approved by policy, review: ") + inline(d.title)
    )
    return {"text": text, "blocks": out}


def should_not_modal(draft: Draft, channel: str, ts: str) -> dict[str, Any]:
    field = InputBlock(
        block_id="reason",
        label="Why not? This revokes the autonomy",
        element=PlainTextInputElement(action_id="reason", multiline=True, min_length=1, max_length=2000),
    )
    return _modal(
        f"Review draft #{draft.id}",
        [blocks.section(Mrkdwn(f"*{inline(draft.title)}*")), field.to_dict()],
        callback_id=SHOULD_NOT_VIEW,
        submit="Revoke",
        metadata={"draft": draft.id, "channel": channel, "ts": ts},
    )
