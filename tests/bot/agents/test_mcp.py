"""`otp mcp` driven by the official MCP client over stdio, as an LLM host would drive it,
against a store holding the example org; and the same tools over HTTP at /mcp in `otp serve`.

Each agent gets a real API token (created here, in the test process); the server runs in
a subprocess and finds the store through OTP_DATABASE_URL, the token through OTP_TOKEN."""

from __future__ import annotations

from sqlalchemy import func, select

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents import tokens
from otp_bot.store.domain.gate import decisions
from otp_bot.store.models import MetricValue
from tests.support.mcp import TOOLS, Agent, session_with, token_for


def test_every_tool_is_listed_with_a_description_and_a_schema(store, agents):
    async def scenario(agent: Agent) -> list:
        return (await agent.session.list_tools()).tools

    listed = {t.name: t for t in session_with(store, agents["pulse"], scenario)}
    assert set(listed) == TOOLS
    for tool in listed.values():
        assert len(tool.description or "") > 60, tool.name
        assert tool.input_schema["type"] == "object" and "ctx" not in tool.input_schema.get("properties", {})
    push = listed["push_metric_values"].input_schema
    assert push["properties"]["values"]["maxItems"] == 5000
    assert set(push["$defs"]["ValueIn"]["required"]) == {"metric", "value"}
    assert listed["send_message"].input_schema["properties"]["performative"]["enum"] == [
        "REQUEST",
        "INFORM",
        "PROPOSAL",
        "RESPONSE",
    ]
    assert listed["get_briefing"].annotations.read_only_hint is True
    assert listed["submit_draft"].annotations.read_only_hint is False


def test_without_a_valid_token_every_tool_says_why(store, agents):
    async def scenario(agent: Agent) -> list[str]:
        return [await agent.error(tool) for tool in ("get_briefing", "list_flags", "get_chart")]

    for said in session_with(store, None, scenario):
        assert "no API token: set OTP_TOKEN" in said and "otp token create" in said
    for said in session_with(store, "otp_not-a-real-token", scenario):
        assert "not valid (unknown or revoked)" in said
    for said in session_with(store, "xoxb-looks-like-slack", scenario):
        assert "a valid API token is required" in said


def test_a_token_revoked_mid_session_stops_at_the_next_call(store):
    secret = token_for(store, "crystal")

    async def scenario(agent: Agent) -> str:
        assert (await agent.call("get_briefing"))["seats"][0]["id"] == "projects"
        with store.session() as s:
            tokens.revoke_token(s, Actor.cli_operator(), secret[:12])
        return await agent.error("get_briefing")

    assert "revoked" in session_with(store, secret, scenario)


def test_reading_the_chart(store, agents):
    async def scenario(agent: Agent) -> None:
        owner = await agent.call("who_owns", topic="churn")
        assert owner["seat"]["id"] == "retention" and owner["seat"]["holder"]["name"] == "Pulse"
        assert owner["seat"]["accountable"]["id"] == "bogdan"
        assert (await agent.call("who_owns", topic="pizza oven"))["seat"] is None
        chart = await agent.call("get_chart")
        assert chart["org"]["name"] == "Acme Agency" and len(chart["seats"]) == 15 and not chart["truncated"]
        below = await agent.call("get_chart", below="sales")
        assert [s["id"] for s in below["seats"]] == ["sales", "prospecting"]
        seat = await agent.call("get_seat", seat="kpi")
        assert seat["holder"]["id"] == "tally" and {m["id"] for m in seat["metrics"]} == {
            "kpi-pushes",
            "kpi-stale-metrics",
        }
        assert "there is no seat `slaes`. Hint: did you mean `sales`?" in await agent.error("get_seat", seat="slaes")
        assert "no seat" in await agent.error("get_chart", below="nowhere")
        assert "validation error" in await agent.error("who_owns", topic="")

    session_with(store, agents["dirk"], scenario)


# ------------------------------------------------------------------------- agents doing their whole job


def test_pulse_flags_a_client_submits_a_draft_and_reads_it_back(store, agents):
    async def scenario(agent: Agent) -> dict:
        flag = await agent.call("set_flag", subject="client:acme", flag="at-risk", reason="usage down 40%", until="7d")
        assert flag["created"] and flag["flag"]["seat"] == "retention" and flag["flag"]["holds"] == ["retention-wins"]
        again = await agent.call("set_flag", subject="client:acme", flag="at-risk", reason="usage down 45%")
        assert not again["created"] and again["flag"]["reason"] == "usage down 45%"
        submitted = await agent.call(
            "submit_draft",
            seat="retention",
            kind="retention-outreach",
            subject="client:acme",
            title="Check in with Acme",
            body="Hi Jo, we noticed fewer leads...",
            key="acme-1",
        )
        draft = submitted["draft"]
        assert submitted["created"] and draft["status"] == "pending" and "Bogdan" in draft["outcome"]
        retry = await agent.call(
            "submit_draft",
            seat="retention",
            kind="retention-outreach",
            subject="client:acme",
            title="Check in with Acme",
            body="Hi Jo, we noticed fewer leads...",
            key="acme-1",
        )
        assert not retry["created"] and retry["draft"]["id"] == draft["id"]
        read = await agent.call("get_draft", draft_id=draft["id"])
        assert read["status"] == "pending" and read["body"].startswith("Hi Jo") and read["final_text"] is None

        # Bogdan approves with an edit; Pulse reads the outcome and the final text.
        with store.session() as s:
            decisions.decide(
                s, Actor(label="Bogdan", holder_id="bogdan"), draft["id"], "approve", edited_body="Hi Jo, checking in."
            )
        decided = await agent.call("get_draft", draft_id=draft["id"])
        assert decided["status"] == "approved" and decided["edited"] and decided["final_text"] == "Hi Jo, checking in."

        briefing = await agent.call("get_briefing")
        assert [s["id"] for s in briefing["seats"]] == ["retention"]
        assert any(f["subject"] == "client:acme" and f["flag"] == "at-risk" for f in briefing["flags"])
        # Another seat's draft is not Pulse's to read, and nobody drafts for a seat they do not hold.
        assert "you hold" in await agent.error(
            "submit_draft", seat="sales", kind="expansion", subject="client:acme", title="t", body="b"
        )
        # Approved text is never sent to this machine or the private network (no OTP_CALLBACK_ALLOW here).
        refused = await agent.error(
            "submit_draft",
            seat="retention",
            kind="retention-outreach",
            subject="client:acme",
            title="t",
            body="b",
            destination="http://169.254.169.254/latest/meta-data",
        )
        assert "callback target 169.254.169.254 is a link-local address" in refused and "OTP_CALLBACK_ALLOW" in refused
        assert "you do not hold seat `sales`" in await agent.error(
            "set_flag", subject="client:x", flag="hot", seat="sales"
        )
        assert "no draft #999999" in await agent.error("get_draft", draft_id=999999)
        assert "validation error" in await agent.error("get_draft", draft_id=0)
        return draft

    session_with(store, agents["pulse"], scenario)


def test_dirk_checks_the_flags_before_an_expansion_draft_and_it_is_held(store, agents):
    async def pulse(agent: Agent) -> None:
        await agent.call("set_flag", subject="client:globex", flag="at-risk", reason="two missed calls")

    session_with(store, agents["pulse"], pulse)

    async def dirk(agent: Agent) -> int:
        flags = (await agent.call("list_flags", subject="client:globex"))["flags"]
        assert [(f["flag"], f["seat"], f["holds"]) for f in flags] == [("at-risk", "retention", ["retention-wins"])]
        assert all(f["subject"] == "client:globex" for f in flags)
        assert (await agent.call("list_flags", subject="client:nobody"))["flags"] == []
        # Dirk drafts anyway: the policy holds it, and says why.
        done = await agent.call(
            "submit_draft",
            seat="sales",
            kind="expansion",
            subject="client:globex",
            title="Upsell Globex",
            body="Globex could double its spend.",
        )
        draft = done["draft"]
        assert draft["status"] == "held" and "client:globex is flagged at-risk" in draft["hold_reason"]
        briefing = await agent.call("get_briefing")
        assert [d["id"] for d in briefing["drafts_held"]] == [draft["id"]]
        assert briefing["drafts_held"][0]["hold_reason"] == draft["hold_reason"]
        return draft["id"]

    held = session_with(store, agents["dirk"], dirk)

    async def pulse_reads(agent: Agent) -> str:
        return await agent.error("get_draft", draft_id=held)

    assert "you can read only the drafts of seats you hold" in session_with(store, agents["pulse"], pulse_reads)


def test_tally_pushes_values_for_every_seat_it_is_granted(store, agents):
    async def scenario(agent: Agent) -> None:
        mine = {m["id"] for m in (await agent.call("list_my_metrics"))["metrics"]}
        assert {"kpi-pushes", "early-flags", "deals-won", "appointment-rate"} <= mine and "mrr" not in mine
        batch = [
            {"metric": "early-flags", "value": 4, "key": "t-1"},
            {"metric": "appointment-rate", "value": "31.5%", "key": "t-2"},
            {"metric": "kpi-pushes", "value": 3, "period": "last", "note": "catch-up"},
            {"metric": "deals-won", "value": "lots"},
            {"metric": "close-rate", "value": 50},
        ]
        pushed = await agent.call("push_metric_values", values=batch)
        assert (pushed["recorded"], pushed["duplicates"], pushed["errors"]) == (3, 0, 2)
        first, second, _, bad, computed = pushed["results"]
        assert first["outcome"] == "recorded" and first["on_track"] is True and first["period_label"].count("-W") == 1
        assert second["value"] == 31.5 and second["on_track"] is True
        assert bad["outcome"] == "error" and "lots" in bad["error"]["detail"]
        assert "computed" in computed["error"]["detail"]
        again = await agent.call("push_metric_values", values=batch[:2])
        assert (again["recorded"], again["duplicates"]) == (0, 2)
        # A metric of a seat Tally may not push to: refused whole, nothing recorded.
        with store.session(readonly=True) as s:
            before = s.scalar(select(func.count()).select_from(MetricValue))
        said = await agent.error(
            "push_metric_values", values=[{"metric": "kpi-pushes", "value": 1}, {"metric": "mrr", "value": 190000}]
        )
        assert "`mrr` belongs to seat `ceo`" in said
        with store.session(readonly=True) as s:
            assert s.scalar(select(func.count()).select_from(MetricValue)) == before
        assert "validation error" in await agent.error("push_metric_values", values=[])
        assert "Extra inputs" in await agent.error(
            "push_metric_values", values=[{"metric": "kpi-pushes", "value": 1, "perod": "2026-W01"}]
        )

    session_with(store, agents["tally"], scenario)


def test_another_seats_metric_is_a_tool_error(store, agents):
    async def scenario(agent: Agent) -> str:
        return await agent.error("push_metric_values", values=[{"metric": "deals-won", "value": 2}])

    said = session_with(store, agents["pulse"], scenario)
    assert "`deals-won` belongs to seat `sales`, held by Dirk" in said
