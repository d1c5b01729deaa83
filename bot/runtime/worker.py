"""The outbox worker: performs what the domain queued, and lets time act on drafts and flags.

It runs as a thread inside `otp serve`, `otp run` and `otp shell`. Several may run at
once (several processes): each item is claimed with a lease and a fence (see
store/domain/outbox.py). Right before every call out the worker re-confirms the claim,
which renews the lease; a claim taken over meanwhile does not call. The lease is longer
than the longest call (Slack's client timeout, a callback's timeout), so an owner that
confirmed is still the owner when the call returns. No transaction is held while Slack
or a callback answers.

Stopping (`stop`, or `request_stop` from a signal handler) lets the item in hand finish and
releases the claims of its batch not started yet, so another worker takes them at once.
Between rounds it also runs retention (bot/ops/retention.py), once per its check period.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from otp_bot.bot.ops.context import bound
from otp_bot.bot.ops.metrics import count_outbox_failure
from otp_bot.bot.ops.retention import RetentionSweep
from otp_bot.bot.runtime import callbacks, review_posts
from otp_bot.bot.runtime.delivery import PERMANENT, Permanent, Unconfirmed, post_once
from otp_bot.bot.slack import pacing
from otp_bot.bot.slack.client import retry_after
from otp_bot.bot.slack.settings import ConfigError, WorkerSettings
from otp_bot.bot.slack.views import approval_message as messages
from otp_bot.bot.slack.views.autonomy_review import review_message
from otp_bot.commands.views.blocks import section
from otp_bot.commands.views.messages import mirror_text
from otp_bot.commands.views.render import escape
from otp_bot.store.db import Database
from otp_bot.store.domain import outbox
from otp_bot.store.domain.agents import bus, webhooks
from otp_bot.store.domain.clock import as_utc
from otp_bot.store.domain.errors import DomainError
from otp_bot.store.domain.gate import (
    delivery as draft_delivery,
)
from otp_bot.store.domain.gate import (
    drafts,
)
from otp_bot.store.domain.gate import (
    queries as gate_queries,
)
from otp_bot.store.domain.gate import (
    reading as draft_reading,
)
from otp_bot.store.domain.gate import (
    timers as draft_timers,
)
from otp_bot.store.domain.gate.autonomy import REVIEW
from otp_bot.store.domain.gate.autonomy_grants import review_of
from otp_bot.store.domain.gate.flags import expire_flags
from otp_bot.store.domain.gate.follow_chart import MOVED
from otp_bot.store.models import Holder

log = logging.getLogger("otp_bot.worker")

LEASE_MARGIN = 2.0  # seconds the lease must exceed the longest call by
UPDATE_LOCKS = 64  # stripes of the per-draft lock that keeps one process's updates of a message in order


class TakenOver(Exception):
    """Another worker claimed the item after this one's lease ran out: hands off."""


def _draft_id(item: outbox.Claimed) -> int:
    """The draft an item of the gate's kinds is about: approval posts, updates, notices and deliveries
    are queued with one."""
    if item.draft_id is None:
        raise Permanent(f"a {item.kind} item without a draft")
    return item.draft_id


class OutboxWorker:
    def __init__(self, db: Database, client: WebClient, settings: WorkerSettings | None = None) -> None:
        self.db, self.client = db, client
        self.settings = settings or WorkerSettings()
        self.allow = self.settings.allowlist  # OTP_CALLBACK_ALLOW: non-public callback targets an operator allows
        longest = max(float(getattr(client, "timeout", 0) or 0), self.settings.callback_timeout_seconds)
        self._longest = longest
        if self.settings.lease_seconds < longest + LEASE_MARGIN:
            raise ConfigError(
                f"OTP_LEASE_SECONDS ({self.settings.lease_seconds:g}) must exceed the longest call out "
                f"({longest:g} s, the Slack or callback timeout) by {LEASE_MARGIN:g} s"
            )
        self.lease = dt.timedelta(seconds=self.settings.lease_seconds)
        # Claim no more than can be worked within one lease: items late in a batch would lapse.
        self.batch = self.settings.outbox_batch or max(
            1, min(20, int(self.settings.lease_seconds // max(longest, 1.0)))
        )
        self.retention = RetentionSweep(db)  # old inbound events and finished outbox items, purged now and then
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_sweep = 0.0
        # Items handed to `perform` as they were claimed: id -> monotonic time until which a
        # call may start without re-confirming (the claim's own lease still covers it).
        self._fresh: dict[int, float] = {}
        self._shown: dict[int, gate_queries.DraftContext] = {}  # what an update handed to `perform` shows
        # Re-entrant: a decider holds its draft's lock from before its decision until `perform` sent it.
        self._update_locks = [threading.RLock() for _ in range(UPDATE_LOCKS)]

    # ------------------------------------------------------------------ running

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="otp-outbox", daemon=True)
            self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop claiming; the item in hand finishes (waited for up to one lease, the time its
        owner has anyway), the claims not started yet are released for another worker."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(self.settings.lease_seconds if timeout is None else timeout)

    def request_stop(self) -> None:
        """Stop claiming from now on, without waiting (a signal handler's part of `stop`)."""
        self._stop.set()
        self._wake.set()

    @property
    def running(self) -> bool:
        """Started, its thread alive, and not stopping."""
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    def kick(self) -> None:
        """Work was queued in this process: do it now rather than at the next poll."""
        self._wake.set()

    def updating(self, draft_id: int) -> threading.RLock:
        """The lock under which this process reads and sends a draft's message updates, so
        the later state is the one that lands last. A decider that renders its update in
        its decision's transaction holds it from before that transaction until `perform`."""
        return self._update_locks[draft_id % UPDATE_LOCKS]

    def perform(
        self, item: outbox.Claimed, claimed_since: float, shown: gate_queries.DraftContext | None = None
    ) -> None:
        """Perform now an item claimed in the transaction that queued it (an approval update
        claimed with its decision): no poll, no claim. `claimed_since`: `time.monotonic()`
        from before that transaction. `shown`: the draft as it committed it (its caller holds
        `updating` since before); else read now. A failure is recorded as the loop's are."""
        # A call that starts by then ends within the lease taken at the claim, and only its
        # lapse lets another worker take the item: confirming first would find it still ours.
        self._fresh[item.id] = claimed_since + self.lease.total_seconds() - self._longest - LEASE_MARGIN
        if shown is not None:
            self._shown[item.id] = shown
        try:
            with bound("outbox", draft_id=item.draft_id):
                self._run(item)
        except Exception:
            # Not the caller's failure: its decision stands. The outcome could not be recorded
            # (the database away): the claim lapses and the item is claimed and sent again.
            log.exception("outbox %s: recording its attempt failed; it is retried after its lease", item.key)
        finally:
            self._fresh.pop(item.id, None)
            self._shown.pop(item.id, None)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if time.monotonic() - self._last_sweep >= self.settings.sweep_seconds:
                    self.sweep()
                    self.retention.run_if_due()
                while self.run_once() and not self._stop.is_set():
                    pass
            except Exception:
                log.exception("outbox worker: a round failed; trying again shortly")
            self._wake.wait(self.settings.poll_seconds)
            self._wake.clear()

    def sweep(self, now: dt.datetime | None = None) -> None:
        self._last_sweep = time.monotonic()
        with self.db.session() as session:
            # Flags first: they lock the drafts they release before the audit chain, as every
            # change to a draft does (chart/locks.py); the sweep skips drafts locked elsewhere.
            expire_flags(session, now)
            draft_timers.sweep_drafts(session, now)

    def run_once(self, limit: int | None = None, now: dt.datetime | None = None) -> int:
        """Claim and perform due items; returns how many were claimed."""
        with self.db.session() as session:
            claimed = outbox.claim(session, limit=limit or self.batch, lease=self.lease, now=now)
            for item in claimed:
                if item.kind == "deliver" and item.draft_id is not None:
                    draft_delivery.delivery_attempted(
                        session, item.draft_id, item.attempt, item.payload.get("destination", "")
                    )
        for n, item in enumerate(claimed):
            if self._stop.is_set():  # stopping: what is not started yet goes back at once
                self._release(claimed[n:])
                break
            with bound("outbox", draft_id=item.draft_id):  # its log lines name the draft
                self._run(item)
        return len(claimed)

    def _release(self, items: list[outbox.Claimed]) -> None:
        with self.db.session() as session:
            released = sum(outbox.release(session, item.id, item.fence) for item in items)
        log.info("outbox: stopping; released %d claimed item(s) for another worker", released)

    def _run(self, item: outbox.Claimed) -> None:
        try:
            result = getattr(self, f"_{item.kind}")(item)
        except TakenOver:
            log.info("outbox %s: taken over by another worker after its lease ran out; not calling out", item.key)
            return
        except Exception as exc:
            permanent = (
                isinstance(exc, (Permanent, DomainError))
                or (isinstance(exc, SlackApiError) and exc.response.get("error") in PERMANENT)
                or (isinstance(exc, Unconfirmed) and exc.permanent)
            )
            error = _describe(exc)
            slowed_for = None
            if isinstance(exc, SlackApiError) and exc.response.status_code == 429 and not permanent:
                slowed_for = retry_after(exc.response.headers)
            if slowed_for is None:
                log.warning("outbox %s (%s) attempt %d failed: %s", item.key, item.kind, item.attempt, error)
            else:
                log.warning(
                    "outbox %s (%s) attempt %d: Slack asked to wait %.0f s; tried again then, not counted as a failure",
                    item.key,
                    item.kind,
                    item.attempt,
                    slowed_for,
                )
            with self.db.session() as session:
                last = outbox.fail(
                    session,
                    item.id,
                    item.fence,
                    error,
                    permanent=permanent,
                    backoff=self.settings.retry_backoff,
                    slowed_for=slowed_for,
                )
                if last and item.kind == "deliver" and item.draft_id is not None:
                    draft_delivery.mark_delivery_failed(session, item.draft_id, error)
                if last and item.kind == "webhook":
                    webhooks.mark_failed(session, item.payload.get("token", 0), item.draft_id, error)
            count_outbox_failure(item.kind, final=last)
            if last and item.kind == "deliver":
                self.kick()
            return
        with self.db.session() as session:
            won = outbox.succeed(session, item.id, item.fence, result)
            if won and item.kind == "deliver" and item.draft_id is not None:
                draft_delivery.mark_delivered(session, item.draft_id, result)
        if item.kind == "deliver":
            self.kick()

    def _confirm(self, item: outbox.Claimed) -> None:
        """Right before a call out: still ours? (renews the lease) Raises TakenOver if not."""
        if time.monotonic() < self._fresh.get(item.id, 0.0):
            return  # claimed just now by this process, for a whole lease (`perform`)
        with self.db.session() as session:
            if not outbox.confirm(session, item.id, item.fence, lease=self.lease):
                raise TakenOver(item.key)

    def _landed(self, item: outbox.Claimed, channel: str, ts: str) -> None:
        """Slack answered: recorded now, in its own transaction, before anything else."""
        with self.db.session() as session:
            outbox.record_landing(session, item.id, channel, ts)

    def _post(self, item: outbox.Claimed, target: str, key: str | None = None, **message: Any) -> tuple[str, str]:
        """One post of `item`, at most once: an earlier landing is reused, the claim is
        re-confirmed right before the call, and the landing is recorded at once."""
        single = key is None  # the item's one post (a reminder posts several, each under its own key)
        if single and item.landed is not None:
            return item.landed
        channel, ts = post_once(
            self.client,
            target,
            key or item.key,
            retry=item.is_retry,
            since=self._since(item),
            before_call=lambda: self._confirm(item),
            **message,
        )
        if single:
            self._landed(item, channel, ts)
        return channel, ts

    # ------------------------------------------------------------------ the kinds of work

    def _context(self, draft_id: int) -> gate_queries.DraftContext:
        with self.db.session(readonly=True) as session:
            draft = draft_reading.get_draft(session, draft_id)
            return gate_queries.context_for(session, draft)

    def _since(self, item: outbox.Claimed) -> float:
        return as_utc(item.started_at or item.created_at).timestamp()

    def _approval_post(self, item: outbox.Claimed) -> dict[str, Any]:
        c = self._context(_draft_id(item))
        purpose = item.payload.get("purpose", "approval")
        message = self._review_message(c) if purpose == REVIEW else messages.approval_message(c)
        if purpose == "escalation":
            message["blocks"].insert(1, section(messages.notice_text("escalated", c)))
        channel, ts = self._post(item, item.payload["channel"], unfurl_links=False, unfurl_media=False, **message)
        with self.db.session() as session:
            drafts.record_message(session, _draft_id(item), channel, ts, purpose)
        return {"channel": channel, "ts": ts}

    def _approval_update(self, item: outbox.Claimed) -> dict[str, Any]:
        # Updates run on this thread and on the threads that decided (`perform`). Read and
        # sent under the draft's lock, the later update renders the later state and lands last.
        with self.updating(_draft_id(item)):
            c = self._shown.get(item.id) or self._context(_draft_id(item))
            updated = []
            for m in c.draft.messages:
                message = (
                    self._review_message(c)
                    if m.purpose == REVIEW
                    else messages.approval_message(c, moved=m.purpose == MOVED)
                )
                with pacing.turn(self.client, "chat.update"):  # wait before confirming, not after
                    self._confirm(item)
                    self.client.chat_update(channel=m.channel, ts=m.ts, **message)
                updated.append(m.ts)
        return {"updated": updated}

    def _review_message(self, c: gate_queries.DraftContext) -> dict[str, Any]:
        """A sampled policy approval's review message, with the review if one was given."""
        with self.db.session(readonly=True) as session:
            return review_message(c, review_of(session, c.draft.id))

    def _notify(self, item: outbox.Claimed) -> dict[str, Any]:
        c = self._context(_draft_id(item))
        event = item.payload["event"]
        if event == "reminder":
            return self._remind(item, c)
        if event == "previous_version":
            return self._previous_version(item, c)
        with self.db.session(readonly=True) as session:
            holder = session.get(Holder, item.payload["holder"])
            target = holder.slack_user if holder else None
        if not target:
            return {"skipped": f"{item.payload['holder']} has no Slack user"}
        channel, ts = self._post(item, target, text=messages.notice_text(event, c))
        return {"channel": channel, "ts": ts}

    def _remind(self, item: outbox.Claimed, c: gate_queries.DraftContext) -> dict[str, Any]:
        if c.draft.status != "pending":
            return {"skipped": f"draft is {c.draft.status}"}
        decided = {d.holder_id for d in c.draft.decisions}
        with self.db.session(readonly=True) as session:
            people = [
                h.slack_user
                for h in session.query(Holder).filter(Holder.id.in_(c.draft.approvers))
                if h.slack_user and h.id not in decided
            ]
        posted = []
        for m in c.draft.messages:
            # A reply in the approval message's thread: the reminder sits beside what it is about.
            _, ts = self._post(
                item, m.channel, f"{item.key}:{m.ts}", thread_ts=m.ts, text=messages.reminder_text(c, people)
            )
            posted.append(ts)
        return {"posted": posted}

    def _previous_version(self, item: outbox.Claimed, c: gate_queries.DraftContext) -> dict[str, Any]:
        """A revision took its original's message: the original goes into the message's thread."""
        with self.db.session(readonly=True) as session:
            previous = draft_reading.get_draft(session, item.payload["previous"])
            text = messages.previous_version_text(previous, c.draft)
        posted = []
        for m in c.draft.messages:
            _, ts = self._post(item, m.channel, f"{item.key}:{m.ts}", thread_ts=m.ts, text=text)
            posted.append(ts)
        return {"posted": posted}

    def _deliver(self, item: outbox.Claimed) -> dict[str, Any]:
        with self.db.session(readonly=True) as session:
            # Refuses anything not approved, whoever queued it.
            draft = draft_delivery.deliverable(session, _draft_id(item))
            text, destination = draft.final_body, draft.destination
            payload = {
                "draft_id": draft.id,
                "status": draft.status,
                "kind": draft.kind,
                "subject": draft.subject,
                "seat": draft.seat_id,
                "title": draft.title,
                "text": text,
                "edited": draft.edited,
                "outcome": draft_reading.outcome(session, draft),
            }
        if destination is None:
            raise Permanent(f"draft #{draft.id} has no destination")
        if destination.lower().startswith(("https://", "http://")):
            return callbacks.deliver(self, item, destination, payload)
        channel, ts = self._post(item, destination, text=escape(text), unfurl_links=False, unfurl_media=False)
        return {"destination": destination, "channel": channel, "ts": ts}

    def _webhook(self, item: outbox.Claimed) -> dict[str, Any]:
        return callbacks.webhook(self, item)

    def _review(self, item: outbox.Claimed) -> dict[str, Any]:
        return review_posts.perform(self, item)

    def _bus_mirror(self, item: outbox.Claimed) -> dict[str, Any]:
        # A reply goes into the Slack thread of its conversation's first message, once that is posted.
        with self.db.session(readonly=True) as session:
            message = bus.get_message(session, item.payload["message_id"])
            text, thread_ts = mirror_text(message), bus.mirror_thread_ts(session, message)
        channel, ts = self._post(
            item, item.payload["channel"], text=text, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False
        )
        return {"channel": channel, "ts": ts}


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return f"Slack said {exc.response.get('error') or exc.response.status_code}"
    return str(exc) or type(exc).__name__
