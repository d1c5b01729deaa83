"""The human gate's tools: submitting a draft for approval and reading it back, and the flags that hold drafts.
(Waiting for the decision, withdrawing and listing drafts: decisions.py.)"""

# No `from __future__ import annotations`: the SDK reads the tools' annotations to build
# their JSON schemas and to find the Context parameter.

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field
from sqlalchemy.orm import Session

from otp_bot.bot.agents.api import schemas, views
from otp_bot.bot.agents.mcp.caller import Caller
from otp_bot.bot.agents.mcp.tools.conventions import READ, WRITE
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.gate import drafts, flags, reading
from otp_bot.store.domain.gate.callback_targets import Allowlist


def register(server: MCPServer, caller: Caller, callback_allow: Allowlist) -> None:
    """Add submit_draft, get_draft, set_flag and list_flags; `callback_allow`: the non-public callback
    targets drafts may name."""

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
        revises: Annotated[
            int | None,
            Field(
                ge=1,
                description="When a person asked for changes (status `changes-requested`): that draft's number. "
                "The revision, of the same seat, kind and subject, takes its place in the same approval message.",
            ),
        ] = None,
    ) -> schemas.Submitted:
        """Submit a draft for human approval. Nothing reaches anyone until a person approves it. The answer says
        whether it is `pending` (posted for approval) or `held` (a policy holds it while a flag stands on its
        subject; it goes to approval by itself when the flag is lifted). Then wait_for_decision: it answers as soon
        as a person decides or asks for changes; answer a change request with a revision (`revises`)."""

        def work(session: Session, actor: Actor) -> schemas.Submitted:
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
                revises=revises,
            )
            return schemas.Submitted(created=done.created, draft=views.draft(session, done.draft))

        return caller.run(ctx, work, writes=True)

    @server.tool(annotations=READ)
    def get_draft(
        ctx: Context, draft_id: Annotated[int, Field(ge=1, description="The draft's number, from submit_draft.")]
    ) -> schemas.Draft:
        """One of your drafts: status (held, pending, approved, rejected, expired, withdrawn), the outcome in a
        sentence, the approved text with any edits (`final_text`: what goes out), the rejection reason, the
        decisions and the delivery."""
        return caller.run(
            ctx, lambda session, actor: views.draft(session, reading.readable_draft(session, actor, draft_id))
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
    ) -> schemas.FlagChange:
        """Flag a subject for a seat you hold, e.g. `client:acme` `at-risk`. While it stands, policies hold
        other seats' drafts of some kinds about that subject (retention wins over expansion). Setting a flag
        that stands already updates its reason and expiry."""

        def work(session: Session, actor: Actor) -> schemas.FlagChange:
            change = flags.set_flag(
                session, actor, subject, flag, seat_id=seat, reason=reason, until=flags.parse_until(until)
            )
            return schemas.FlagChange(flag=views.flag(session, change.flag), created=change.created, released=[])

        return caller.run(ctx, work, writes=True)

    @server.tool(annotations=READ)
    def list_flags(
        ctx: Context,
        subject: Annotated[
            str | None,
            Field(max_length=200, description="Only flags on this subject, e.g. `client:acme` (default: all)."),
        ] = None,
    ) -> schemas.Flags:
        """Flags in force, by any seat, with who set them, why, until when, and the policies they trigger. Check
        a subject before drafting about it: a draft the flag's policy holds waits until the flag is lifted."""
        return caller.run(
            ctx,
            lambda session, _a: schemas.Flags(
                flags=[views.flag(session, f) for f in flags.active_flags(session, subject)]
            ),
        )

    @server.tool(name="lift_flag", annotations=WRITE)
    def lift_flag_tool(
        ctx: Context,
        subject: Annotated[str, Field(max_length=200, description="What the flag is on: `client:acme`.")],
        flag: Annotated[str, Field(max_length=64, description="The flag: `at-risk`.")],
        seat: Annotated[
            str | None, Field(max_length=64, description="Only this seat's flag, when several seats set the same.")
        ] = None,
    ) -> schemas.FlagChange:
        """Lift a flag your seat set (or one on a seat you are the accountable human for). Drafts it held go to
        approval at once; they are listed in `released`."""

        def work(session: Session, actor: Actor) -> schemas.FlagChange:
            change = flags.lift_flag(session, actor, subject, flag, seat_id=seat)
            return schemas.FlagChange(
                flag=views.flag(session, change.flag),
                created=False,
                released=[views.draft_ref(d) for d in change.released],
            )

        return caller.run(ctx, work, writes=True)
