"""What an agent can read without calling a tool: the chart, a seat, its rules, its trust ledger and
learnings, its briefing, the weekly review and a draft, as JSON resources read as the token that
asks, with the same rights as the tools and the API."""

# No `from __future__ import annotations`: the SDK reads the functions' annotations to find the
# Context parameter.

from mcp.server.mcpserver import Context, MCPServer
from sqlalchemy.orm import Session

from otp_bot.bot.agents.api import review_answers, views
from otp_bot.bot.agents.api.briefing_schemas import SeatRules
from otp_bot.bot.agents.mcp.caller import Caller
from otp_bot.bot.agents.mcp.tools.chart import chart
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_seat
from otp_bot.store.domain.chart.rules import rules_naming
from otp_bot.store.domain.gate.learnings import readable_learnings
from otp_bot.store.domain.gate.ledger import readable_ledger
from otp_bot.store.domain.gate.reading import readable_draft

JSON = "application/json"


def register(server: MCPServer, caller: Caller) -> None:
    """Add otp://chart, otp://briefing, otp://review, otp://seat/{seat}, otp://seat/{seat}/rules,
    otp://seat/{seat}/ledger, otp://seat/{seat}/learnings and otp://drafts/{draft_id}."""

    # Those without a parameter get no Context from the SDK: the caller finds the request's token itself.
    @server.resource("otp://chart", name="chart", title="The org chart", mime_type=JSON)
    def chart_resource() -> str:
        """Every seat depth first in chart order, with its holder, accountable human and `reports_to`."""
        return caller.read(None, lambda session, _a: chart(session).model_dump_json())

    @server.resource("otp://briefing", name="briefing", title="Your briefing", mime_type=JSON)
    def briefing_resource() -> str:
        """What needs you now: your seats, drafts waiting or held, flags, overdue requests, unread messages,
        off-track metrics and the rules naming your seats (as the get_briefing tool)."""
        return caller.read(None, lambda session, actor: views.briefing(session, actor).model_dump_json(by_alias=True))

    @server.resource("otp://review", name="review", title="This week's review", mime_type=JSON)
    def review_resource() -> str:
        """The weekly review as it stands for you: the open issues list by rank, your open to-dos (overdue
        flagged) and your seats' rocks of this quarter with their track."""
        return caller.read(None, lambda session, actor: review_answers.review(session, actor).model_dump_json())

    @server.resource("otp://seat/{seat}", name="seat", title="A seat in full", mime_type=JSON)
    def seat_resource(seat: str, ctx: Context) -> str:
        """One seat: holder, accountable human, reporting line, what it owns, and its metrics with status."""
        return caller.read(
            ctx, lambda session, _a: views.seat_detail(session, get_seat(session, seat)).model_dump_json()
        )

    @server.resource("otp://seat/{seat}/rules", name="seat_rules", title="A seat's operating rules", mime_type=JSON)
    def seat_rules_resource(seat: str, ctx: Context) -> str:
        """The org's operating rules that name this seat."""

        def work(session: Session, _actor: Actor) -> str:
            found = get_seat(session, seat)
            return SeatRules(
                seat=found.id, rules=[views.rule(r) for r in rules_naming(session, found.id)]
            ).model_dump_json()

        return caller.read(ctx, work)

    @server.resource("otp://seat/{seat}/ledger", name="seat_ledger", title="A seat's trust ledger", mime_type=JSON)
    def seat_ledger_resource(seat: str, ctx: Context) -> str:
        """The seat's record at the human gate over the last 30 days, over all kinds and per kind: drafts
        submitted, approval rate, share approved unedited, edit size, time to decision, rejection reasons,
        rounds of changes. For the seat's holder, the people it answers to and operators."""
        return caller.read(
            ctx, lambda session, actor: views.ledger(readable_ledger(session, actor, seat)).model_dump_json()
        )

    @server.resource(
        "otp://seat/{seat}/learnings", name="seat_learnings", title="What people told a seat lately", mime_type=JSON
    )
    def seat_learnings_resource(seat: str, ctx: Context) -> str:
        """The last 30 days at the gate for this seat: rejection reasons by frequency, the latest rejections
        with who said no, and the edits people made before approving as unified diffs. Read it before drafting."""
        return caller.read(
            ctx, lambda session, actor: views.learnings(readable_learnings(session, actor, seat)).model_dump_json()
        )

    @server.resource("otp://drafts/{draft_id}", name="draft", title="One of your drafts", mime_type=JSON)
    def draft_resource(draft_id: str, ctx: Context) -> str:
        """A draft of a seat you hold (or one you drafted): status, outcome, final text, decisions, delivery."""
        return caller.read(
            ctx, lambda session, actor: views.draft(session, readable_draft(session, actor, draft_id)).model_dump_json()
        )
