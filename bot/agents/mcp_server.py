"""The MCP server: everything an agent does in OTP, as tools an LLM can call.

`otp mcp` serves it over stdio, acting as the agent whose API token is in OTP_TOKEN;
`otp serve` mounts it as streamable HTTP at /mcp, where each request's
`Authorization: Bearer` token says who is asking. The token is checked on every call,
so a revoked token stops working at once, mid-session.

Tools call the domain layer directly (not the HTTP API) and answer with the same JSON
shapes as the agent API. A rule that says no comes back as a tool error whose text is
the domain's message and hint, written so the model can act on it.
"""

# No `from __future__ import annotations`: the SDK reads the tools' annotations to build
# their JSON schemas and to find the Context parameter.

import json
import os
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import ToolAnnotations
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from otp_bot.bot.agents.api import schemas, views
from otp_bot.bot.agents.api.problems import CHALLENGE, problem
from otp_bot.bot.slack.settings import callback_allowlist
from otp_bot.commands.views import messages as message_views
from otp_bot.store.db import Database
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents import bus, inboxes
from otp_bot.store.domain.agents.tokens import Unauthenticated, authenticate
from otp_bot.store.domain.chart.reading import get_org, get_seat, seat_order
from otp_bot.store.domain.chart.rules import rules_naming, search_rules
from otp_bot.store.domain.chart.search import who_owns
from otp_bot.store.domain.errors import DomainError
from otp_bot.store.domain.gate import drafts, flags
from otp_bot.store.domain.gate.callback_targets import Allowlist
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.metrics import current_rows
from otp_bot.store.domain.scorecard.value_batches import MAX_BATCH, Value, record_values
from otp_bot.store.models import Metric, Seat

T = TypeVar("T")
LOG_LEVEL = os.environ.get("OTP_LOG_LEVEL", "WARNING").upper()  # the SDK logs every tool failure at INFO
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    LOG_LEVEL = "WARNING"
MAX_HTTP_BODY = 2_000_000  # as the agent API: 5,000 values with notes fit
CHART_SEATS = 1000  # seats get_chart lists; `below` narrows a larger chart
READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)

INSTRUCTIONS = """\
OTP keeps the org chart (seats held by people or agents, reporting lines, what each seat
owns), the scorecard (metrics per seat, values per week or month, on or off track) and the
human gate (agents draft; people approve before anything reaches a customer).
You act as the agent whose token this server was given, for the seats that agent holds.
Start with get_briefing: your seats, drafts waiting or held, flags in force, overdue
requests, unread messages and off-track metrics. Check list_flags on a subject before
drafting about it: a policy may hold your draft while another seat's flag stands."""


def _failure(exc: DomainError) -> ToolError:
    return ToolError(exc.message + (f". Hint: {exc.hint}" if exc.hint else ""))


class _Agent:
    """Who is asking, per call: the request's Bearer token (HTTP), else the token given at start (stdio)."""

    def __init__(self, db: Database, token: str | None, *, http: bool, kick: Callable[[], None] | None) -> None:
        self.db, self.token, self.http, self.kick = db, token, http, kick

    def _secret(self, ctx: Context) -> str | None:
        headers = ctx.headers if self.http else None
        if headers is not None:
            scheme, _, value = (headers.get("authorization") or "").partition(" ")
            return value.strip() if scheme.lower() == "bearer" else None
        return self.token

    def actor(self, ctx: Context) -> Actor:
        secret = self._secret(ctx)
        if not secret:
            raise ToolError(
                "no API token"
                + (
                    ": send `Authorization: Bearer otp_…`"
                    if self.http
                    else ": set OTP_TOKEN in this server's environment to a token from "
                    "`otp token create --holder HOLDER`"
                )
            )
        try:
            # A short unit of work of its own: it may note when the token was last used.
            with self.db.session() as session:
                return authenticate(session, secret)
        except Unauthenticated as exc:
            raise ToolError(exc.message + ". Hint: ask an operator for a new token (`otp token create`)") from None

    def run(self, ctx: Context, work: Callable[[Session, Actor], T], *, writes: bool = False) -> T:
        actor = self.actor(ctx)
        try:
            with self.db.session(readonly=not writes) as session:
                result = work(session, actor)
        except DomainError as exc:
            raise _failure(exc) from None
        if writes and self.kick is not None:
            self.kick()  # what the call queued for Slack goes out now, not at the worker's next poll
        return result


def _dump(model: Any) -> dict[str, Any]:
    return model.model_dump(mode="json")


def _pushable(session: Session, actor: Actor) -> list[Metric]:
    query = select(Metric).join(Seat).where(Seat.status != "retired").order_by(Metric.seat_id, Metric.position)
    if not actor.operator:
        query = query.where(Metric.seat_id.in_(sorted(actor.held_seat_ids(session) | actor.push_seats)))
    return list(session.scalars(query))


def build_server(
    db: Database,
    token: str | None = None,
    *,
    http: bool = False,
    log_level: str = "WARNING",
    kick: Callable[[], None] | None = None,
    callback_allow: Allowlist | None = None,
) -> MCPServer:
    """The server with every tool. Over stdio `token` is the agent's; over HTTP each request brings its own.
    `kick` wakes an outbox worker in the same process after a call that wrote. `callback_allow`: the
    non-public callback targets drafts may name (default: OTP_CALLBACK_ALLOW)."""
    callback_allow = callback_allow if callback_allow is not None else callback_allowlist()
    agent = _Agent(db, token, http=http, kick=kick)
    server = MCPServer("otp", title="OTP bot", instructions=INSTRUCTIONS, version="1", log_level=log_level)

    # ---------------------------------------------------------------- the chart

    @server.tool(name="who_owns", annotations=READ)
    def who_owns_tool(
        ctx: Context,
        topic: Annotated[
            str,
            Field(
                min_length=1,
                max_length=200,
                description="A topic, function or question: `retention`, `invoices`, `who approves ad spend`.",
            ),
        ],
    ) -> dict[str, Any]:
        """Find the seat that owns a topic (typos, case and plurals tolerated): the seat with its holder,
        accountable human, reporting line and metrics. When unsure, up to three candidates instead."""

        def work(session: Session, _actor: Actor) -> dict[str, Any]:
            match = who_owns(session, topic)
            best = views.seat_detail(session, get_seat(session, match.best.seat_id)) if match.best else None
            return _dump(
                schemas.WhoOwns(
                    query=topic,
                    topic=match.query,
                    seat=best,
                    matched=match.best.matched if match.best else None,
                    candidates=[
                        schemas.Candidate(
                            seat=views.seat(get_seat(session, c.seat_id)),
                            matched=c.matched,
                            field=c.field,
                            score=round(c.score, 1),
                        )
                        for c in match.candidates
                    ],
                )
            )

        return agent.run(ctx, work)

    @server.tool(annotations=READ)
    def get_chart(
        ctx: Context,
        below: Annotated[
            str | None,
            Field(max_length=64, description="Only this seat and the seats below it (default: the whole chart)."),
        ] = None,
    ) -> dict[str, Any]:
        """The org chart: every seat depth first in chart order, with its holder (human or agent), the human
        accountable for it, its status and `reports_to` (which gives the tree)."""

        def work(session: Session, _actor: Actor) -> dict[str, Any]:
            org = get_org(session)
            order = seat_order(session, get_seat(session, below).id if below else None)
            shown = order[:CHART_SEATS]
            by_id = {s.id: s for s in session.scalars(select(Seat).where(Seat.id.in_(shown)))}
            return {
                "org": {"name": org.name, "timezone": org.timezone, "revision": org.revision},
                "seats": [_dump(views.seat(by_id[i])) for i in shown],
                "truncated": len(order) > len(shown),
            }

        return agent.run(ctx, work)

    @server.tool(name="get_seat", annotations=READ)
    def get_seat_tool(
        ctx: Context, seat: Annotated[str, Field(max_length=64, description="The seat id, e.g. `retention`.")]
    ) -> dict[str, Any]:
        """One seat in full: holder, accountable human, reporting line, accountabilities, what it owns and does
        not own, and its metrics with goal, latest value and green/yellow/red status."""
        return agent.run(ctx, lambda session, _a: _dump(views.seat_detail(session, get_seat(session, seat))))

    # ---------------------------------------------------------------- the scorecard

    @server.tool(annotations=READ)
    def list_my_metrics(ctx: Context) -> dict[str, Any]:
        """The metrics you may push values to (those of the seats you hold, and seats granted to your token),
        with unit, goal, cadence (weekly periods start Monday), the latest value and the status. A metric with a
        `formula` is computed: push its inputs instead."""
        return agent.run(
            ctx,
            lambda session, actor: {
                "metrics": [_dump(views.metric_status(r)) for r in current_rows(session, _pushable(session, actor))]
            },
        )

    @server.tool(annotations=WRITE)
    def push_metric_values(
        ctx: Context,
        values: Annotated[
            list[schemas.ValueIn],
            Field(min_length=1, max_length=MAX_BATCH, description="The values, each for one metric and period."),
        ],
    ) -> dict[str, Any]:
        """Record values for metrics of seats you may push to (1 to 5,000 at once). Each value is answered in
        order: `recorded` with its on/off-track status, `duplicate` (the same metric, period and key was pushed
        before: nothing written) or `error` with the reason. A value for a metric of a seat you may not push to
        fails the whole call and records nothing. Values are never overwritten: values in one period combine by
        the metric's aggregation; `correction: true` replaces the period's earlier values."""
        items = [
            Value(metric=v.metric, value=v.value, period=v.period, note=v.note, key=v.key, correction=v.correction)
            for v in values
        ]

        def work(session: Session, actor: Actor) -> dict[str, Any]:
            batch = record_values(session, actor, items, source="api")
            results = []
            for r in batch.results:
                results.append(
                    {
                        "index": r.index,
                        "metric": r.metric_id,
                        "outcome": r.outcome,
                        "value": r.value_in_unit,
                        "period": r.period_start.isoformat() if r.period_start else None,
                        "period_label": periods.label(r.period_start, r.cadence)
                        if r.period_start and r.cadence
                        else None,
                        "on_track": r.on_track,
                        "error": (r.error.message + (f". Hint: {r.error.hint}" if r.error.hint else ""))
                        if r.error
                        else None,
                    }
                )
            return {
                "recorded": batch.count("recorded"),
                "duplicates": batch.count("duplicate"),
                "errors": batch.count("error"),
                "results": results,
            }

        return agent.run(ctx, work, writes=True)

    # ---------------------------------------------------------------- the human gate

    @server.tool(annotations=WRITE)
    def submit_draft(
        ctx: Context,
        seat: Annotated[str, Field(max_length=64, description="The drafting seat: one you hold.")],
        kind: Annotated[
            str,
            Field(
                max_length=64, description="What it is, one word: `retention-outreach`, `expansion`, `coaching-note`."
            ),
        ],
        subject: Annotated[
            str,
            Field(
                max_length=200,
                description="Who or what it is about, one word: "
                "`client:acme`. Policies hold drafts by flags on this subject.",
            ),
        ],
        title: Annotated[str, Field(max_length=200, description="One line for the approvers.")],
        body: Annotated[
            str,
            Field(
                max_length=drafts.MAX_BODY, description="The text to approve (markdown), exactly as it would go out."
            ),
        ],
        destination: Annotated[
            str | None,
            Field(
                max_length=500,
                description="Where the approved text "
                "goes: a Slack channel or user id, or an https:// callback URL on a public "
                "address (redirects are not followed).",
            ),
        ] = None,
        key: Annotated[
            str | None,
            Field(
                max_length=200,
                description="Idempotency key: submitting again with the same key and content returns the same draft.",
            ),
        ] = None,
        customer_facing: bool = True,
    ) -> dict[str, Any]:
        """Submit a draft for human approval. Nothing reaches anyone until a person approves it. The answer says
        whether it is `pending` (posted for approval) or `held` (a policy holds it while a flag stands on its
        subject; it goes to approval by itself when the flag is lifted). Read the outcome later with get_draft."""

        def work(session: Session, actor: Actor) -> dict[str, Any]:
            done = drafts.submit_draft(
                session,
                actor,
                seat_id=seat,
                kind=kind,
                subject=subject,
                title=title,
                body=body,
                customer_facing=customer_facing,
                destination=destination,
                key=key,
                callback_allow=callback_allow,
            )
            return {"created": done.created, "draft": _dump(views.draft(session, done.draft))}

        return agent.run(ctx, work, writes=True)

    @server.tool(annotations=READ)
    def get_draft(
        ctx: Context, draft_id: Annotated[int, Field(ge=1, description="The draft's number, from submit_draft.")]
    ) -> dict[str, Any]:
        """One of your drafts: status (held, pending, approved, rejected, expired, withdrawn), the outcome in a
        sentence, the approved text with any edits (`final_text`: what goes out), the rejection reason, the
        decisions and the delivery."""
        return agent.run(
            ctx, lambda session, actor: _dump(views.draft(session, drafts.readable_draft(session, actor, draft_id)))
        )

    @server.tool(annotations=WRITE)
    def set_flag(
        ctx: Context,
        subject: Annotated[str, Field(max_length=200, description="What the flag is on, one word: `client:acme`.")],
        flag: Annotated[str, Field(max_length=64, description="The flag, one word: `at-risk`.")],
        seat: Annotated[
            str | None, Field(max_length=64, description="The flagging seat; needed only when you hold several.")
        ] = None,
        reason: Annotated[
            str | None, Field(max_length=500, description="Why, in a sentence: shown wherever the flag holds a draft.")
        ] = None,
        until: Annotated[
            str | None,
            Field(
                max_length=40,
                description="When it ends by itself: `3d`, `12h`, a date or an ISO time (default: until lifted).",
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Flag a subject for a seat you hold, e.g. `client:acme` `at-risk`. While it stands, policies hold
        other seats' drafts of some kinds about that subject (retention wins over expansion). Setting a flag
        that stands already updates its reason and expiry."""

        def work(session: Session, actor: Actor) -> dict[str, Any]:
            change = flags.set_flag(
                session, actor, subject, flag, seat_id=seat, reason=reason, until=flags.parse_until(until)
            )
            return {"created": change.created, "flag": _dump(views.flag(session, change.flag))}

        return agent.run(ctx, work, writes=True)

    @server.tool(annotations=READ)
    def list_flags(
        ctx: Context,
        subject: Annotated[
            str | None,
            Field(max_length=200, description="Only flags on this subject, e.g. `client:acme` (default: all)."),
        ] = None,
    ) -> dict[str, Any]:
        """Flags in force, by any seat, with who set them, why, until when, and the policies they trigger. Check
        a subject before drafting about it: a draft the flag's policy holds waits until the flag is lifted."""
        return agent.run(
            ctx,
            lambda session, _a: {
                "flags": [_dump(views.flag(session, f)) for f in flags.active_flags(session, subject)]
            },
        )

    # ---------------------------------------------------------------- the message bus

    @server.tool(annotations=WRITE)
    def send_message(
        ctx: Context,
        performative: Annotated[
            Literal["REQUEST", "INFORM", "PROPOSAL", "RESPONSE"],
            Field(
                description="REQUEST asks for something (optionally by a deadline); INFORM tells; "
                "PROPOSAL suggests; RESPONSE answers a message sent to your seat (needs in_reply_to) "
                "and marks it answered."
            ),
        ],
        body: Annotated[str, Field(max_length=bus.MAX_BODY, description="The message.")],
        to_seat: Annotated[
            str | None,
            Field(
                max_length=64, description="The seat it is for; for a reply, leave it out (it goes to the other seat)."
            ),
        ] = None,
        subject: Annotated[
            str | None,
            Field(
                max_length=bus.MAX_SUBJECT, description="One line; a reply without one takes `Re:` and the original's."
            ),
        ] = None,
        in_reply_to: Annotated[
            int | None, Field(ge=1, description="The number of the message this replies to.")
        ] = None,
        deadline: Annotated[
            str | None, Field(max_length=40, description="REQUEST only: by when, as `4h`, `2d`, a date or an ISO time.")
        ] = None,
        from_seat: Annotated[
            str | None, Field(max_length=64, description="The seat it is from; needed only when you hold several.")
        ] = None,
        key: Annotated[
            str | None,
            Field(
                max_length=bus.MAX_KEY, description="Idempotency key: sending again with it returns the same message."
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Send a message from a seat you hold to another seat. Messages belong to seats: the recipient seat's
        holder reads them with read_inbox. A reply stays in its thread, between the same two seats."""

        def work(session: Session, actor: Actor) -> dict[str, Any]:
            sent = bus.send_message(
                session,
                actor,
                to_seat=to_seat,
                performative=performative,
                subject=subject,
                body=body,
                from_seat=from_seat,
                in_reply_to=in_reply_to,
                deadline=deadline,
                key=key,
            )
            return {
                "created": sent.created,
                "answered": sent.answered.id if sent.answered else None,
                "message": message_views.view(sent.message),
            }

        return agent.run(ctx, work, writes=True)

    @server.tool(annotations=WRITE)
    def read_inbox(
        ctx: Context,
        seat: Annotated[
            str | None,
            Field(max_length=64, description="Whose inbox: a seat you hold (default: yours, when you hold one)."),
        ] = None,
        status: Annotated[
            Literal["open", "unread", "read", "answered", "all"],
            Field(description="`open` (default): unread, or REQUEST/PROPOSAL not answered yet."),
        ] = "open",
        limit: Annotated[int, Field(ge=1, le=inboxes.MAX_PAGE, description="Messages per page.")] = 20,
        cursor: Annotated[
            str | None, Field(max_length=20, description="`next_cursor` of the previous page, for older messages.")
        ] = None,
        mark_read: Annotated[bool, Field(description="Mark the unread messages returned as read.")] = True,
    ) -> dict[str, Any]:
        """Messages sent to a seat, newest first. Answer a REQUEST or PROPOSAL with send_message
        (performative RESPONSE, in_reply_to its number); a REQUEST past its deadline shows as `overdue`."""

        def work(session: Session, actor: Actor) -> dict[str, Any]:
            page = inboxes.inbox(session, actor, seat, status=status, limit=limit, cursor=cursor)
            shown = [message_views.view(m) for m in page.messages]
            marked = inboxes.mark_shown_read(session, actor, page.messages) if mark_read else 0
            return {
                "seat": message_views.seat_ref(page.seat),
                "unread": page.unread - marked,
                "messages": shown,
                "marked_read": marked,
                "next_cursor": page.next_cursor,
            }

        return agent.run(ctx, work, writes=mark_read)

    @server.tool(annotations=READ)
    def get_thread(
        ctx: Context, message_id: Annotated[int, Field(ge=1, description="Any message of the thread.")]
    ) -> dict[str, Any]:
        """A whole conversation, oldest first: the first message and every reply."""
        return agent.run(
            ctx,
            lambda session, actor: {
                "messages": [message_views.view(m) for m in inboxes.thread(session, actor, message_id)]
            },
        )

    # ---------------------------------------------------------------- the org's operating rules

    @server.tool(name="search_rules", annotations=READ)
    def search_rules_tool(
        ctx: Context,
        topic: Annotated[
            str,
            Field(
                min_length=1,
                max_length=200,
                description="A topic, a seat's title or a rule id: `fees`, `front desk`, `C004`.",
            ),
        ],
    ) -> dict[str, Any]:
        """The org's operating rules about a topic, best first (typos, case and plurals tolerated): each with
        its rule, why, failure mode, scope, confidence, evidence and the seats it names. Read them before acting
        in an area they cover."""
        return agent.run(
            ctx,
            lambda session, _a: {"topic": topic, "rules": [views.rule(f.rule) for f in search_rules(session, topic)]},
        )

    @server.resource(
        "otp://seats/{seat}/rules",
        name="seat_rules",
        title="A seat's operating rules",
        description="The org's operating rules that name this seat, as JSON.",
        mime_type="application/json",
    )
    def seat_rules(seat: str, ctx: Context) -> str:
        def work(session: Session, _actor: Actor) -> str:
            found = get_seat(session, seat)
            return json.dumps({"seat": found.id, "rules": [views.rule(r) for r in rules_naming(session, found.id)]})

        try:
            return agent.run(ctx, work)
        except ToolError as exc:
            raise ResourceError(str(exc)) from None

    # ---------------------------------------------------------------- at a glance

    @server.tool(annotations=READ)
    def get_briefing(ctx: Context) -> dict[str, Any]:
        """What needs you now, as JSON: your seats; your drafts waiting for a decision and those held (with
        why); drafts waiting for your decision; every flag in force; requests past their deadline to or from
        your seats; unread messages per seat; your metrics off track; the org's operating rules naming your seats
        (also at the resource otp://seats/{seat}/rules). The daily briefing will add to this."""
        return agent.run(ctx, views.briefing)

    return server


def run_stdio(db: Database | None = None) -> None:
    """`otp mcp`: serve over stdin/stdout as the agent whose token is in OTP_TOKEN."""
    db = db or Database()
    db.ensure_ready()
    build_server(db, os.environ.get("OTP_TOKEN") or None, log_level=LOG_LEVEL).run("stdio")


class HttpEndpoint:
    """The server as streamable HTTP (an ASGI app for one route), behind a Bearer check.

    Stateless and answering in plain JSON: every request stands alone and brings its own
    token, so any `otp serve` process can answer it. A request without a valid token is
    answered 401 before MCP sees it; each tool call checks the token again. DNS-rebinding
    protection is off: it guards servers that trust whoever reaches them, and this one
    trusts only a token, whatever the Host header says.
    """

    def __init__(
        self,
        db: Database,
        kick: Callable[[], None] | None = None,
        path: str = "/mcp",
        callback_allow: Allowlist | None = None,
    ) -> None:
        self.db, self.path = db, path
        self.server = build_server(db, http=True, log_level=LOG_LEVEL, kick=kick, callback_allow=callback_allow)
        self.server.streamable_http_app(  # builds the session manager this endpoint hands requests to
            streamable_http_path=path,
            stateless_http=True,
            json_response=True,
            max_request_body_size=MAX_HTTP_BODY,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )

    def running(self) -> AbstractAsyncContextManager[None]:
        """Held open for as long as the web app serves (its lifespan)."""
        return self.server.session_manager.run()

    def _check(self, authorization: str) -> None:
        scheme, _, secret = authorization.partition(" ")
        with self.db.session() as session:
            authenticate(session, secret.strip() if scheme.lower() == "bearer" else None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        authorization = Headers(scope=scope).get("authorization", "")
        try:
            await run_in_threadpool(self._check, authorization)
        except Unauthenticated as exc:
            response = problem(
                401,
                "unauthenticated",
                "Missing or invalid API token",
                exc.message,
                hint="send `Authorization: Bearer otp_…` with a token from `otp token create`",
                headers=CHALLENGE,
            )
            await response(scope, receive, send)
            return
        await self.server.session_manager.handle_request(scope, receive, send)
