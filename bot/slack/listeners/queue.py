"""The approver's queue on the Home: "approve these" opens the batch, its submit decides each.

Every rule is the domain's (`gate.batch`): this only reads the click, opens the modal,
and, on submit, asks the domain to approve each draft the modal showed, each in its own
transaction, so a draft that cannot be approved skips alone and the others stand.
"""

from __future__ import annotations

import json
import logging
import re
import time

from slack_bolt import Ack, App
from slack_sdk import WebClient

from otp_bot.bot.slack.app import Deps
from otp_bot.bot.slack.errors import friendly
from otp_bot.bot.slack.listeners.home import publish
from otp_bot.bot.slack.views.queue import BATCH_VIEW, REVIEW, batch_modal, notice, result_modal
from otp_bot.store.domain.errors import DomainError
from otp_bot.store.domain.gate import batch
from otp_bot.store.retry import is_transient

log = logging.getLogger("otp_bot.slack")


def register(app: App, deps: Deps) -> None:
    @app.action(re.compile(rf"^{REVIEW}(:|$)"))
    def review(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        try:
            group = json.loads(action.get("value") or "{}")
            kind, subject = str(group.get("kind", "")), str(group.get("subject", ""))
            actor = deps.identity.actor(deps.db, body["user"]["id"])
            with deps.db.session(readonly=True) as session:
                view = batch_modal(batch.batch_for(session, actor, kind, subject))
        except (DomainError, ValueError, AttributeError) as exc:
            view = notice(friendly(exc).text)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(BATCH_VIEW)
    def approve_these(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        user = body["user"]["id"]
        try:
            seen = batch.read_seen(json.loads(view.get("private_metadata") or "{}").get("seen"))
        except (DomainError, ValueError, AttributeError) as exc:
            ack(response_action="update", view=notice(friendly(exc).text))
            return
        # Slack waits 3 s for the answer; ten decisions on a busy database may take longer.
        # The modal says so at once, and shows what was done when it is done.
        ack(response_action="update", view=notice(f"Approving {len(seen)} draft(s), each on its own…"))
        approved, skipped = _approve_each(deps, user, seen)
        try:
            client.views_update(view_id=body["view"]["id"], view=result_modal(approved, skipped))
        except Exception as exc:  # the decisions stand; only their summary is not shown
            log.warning("could not show the result of a batch approval: %s", type(exc).__name__)
        publish(deps, client, user)  # the queue on the Home, without what was just decided


def _approve_each(deps: Deps, user: str, seen: list[tuple[int, str]]) -> tuple[list, list]:
    """Each shown draft approved in its own transaction; (approved, skipped with why)."""
    actor = deps.identity.actor(deps.db, user)
    approved: list[tuple[int, str]] = []
    skipped: list[tuple[int, str]] = []
    queued = False
    for draft_id, fingerprint in seen:
        began = time.monotonic()
        try:
            with deps.db.session() as session:
                decided = batch.approve_seen(session, actor, draft_id, fingerprint, claim_update=deps.worker.lease)
                word = "approved" if decided.final else "approved; it waits for more approvals"
        except DomainError as exc:
            skipped.append((draft_id, exc.message))
            continue
        except Exception as exc:
            if not is_transient(exc):
                raise
            skipped.append((draft_id, "the database was away for a moment; it was not approved, try again"))
            continue
        approved.append((draft_id, word))
        queued = queued or decided.queued
        if decided.update is not None:  # the approval message shows the decision
            deps.work.submit(deps.worker.perform, decided.update, began)
    if queued:
        deps.kick()
    log.info("batch approval: %d approved, %d skipped", len(approved), len(skipped))
    return approved, skipped
