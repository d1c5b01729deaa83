"""Review without rubber-stamping, end to end: the approver's queue on the Home grouped by
kind and subject, "approve these" over drafts each shown in full (capped, each its own
decision, a draft changed or decided meanwhile skipped), and out-of-office delegation by
`/otp delegate`, all through signed Slack requests to `otp serve`."""

from __future__ import annotations

import datetime as dt
import itertools
import json

from sqlalchemy import func, select, update

from otp_bot.store.domain.actors import actor_for_holder
from otp_bot.store.domain.gate import flags
from otp_bot.store.models import AuditEntry, Delegation, Draft, Seat
from tests.support.approvals import click, draft_row, ephemeral, posted, submit, updates, wait_until
from tests.support.blockkit import assert_valid
from tests.support.serve import BOGDAN, PULSE, STRANGER
from tests.support.slack.signing import block_actions_body, event_body, view_submission_body

SUBMISSIONS = itertools.count(1)
JANINE, DAVID, KRISTEN = "U03JNN2W5TA", "U02DSTL7K1Q", "U03KRS9C6VE"


def home(server, api, user=BOGDAN) -> dict:
    api.home.pop(user, None)
    status, _, _ = server.send(event_body({"type": "app_home_opened", "user": user, "tab": "home"}))
    assert status == 200
    view = wait_until(lambda: api.home.get(user), what="the Home tab")
    assert_valid(view, view=True)
    return view


def groups(view: dict) -> list[dict]:
    """The queue's groups on the Home, in order: their text and their button."""
    return [b for b in view["blocks"] if b.get("block_id", "").startswith("otp_queue_")]


def group_of(view: dict, subject: str) -> dict:
    return next(b for b in groups(view) if json.loads(b["accessory"]["value"])["subject"] == subject)


def open_batch(server, api, group: dict, user=BOGDAN) -> dict:
    before = len(api.calls_to("views.open"))
    button = group["accessory"]
    status, _, _ = server.send(
        block_actions_body(user, button["action_id"], button["value"], block_id=group["block_id"])
    )
    assert status == 200
    view = wait_until(lambda: api.calls_to("views.open")[before:], what="the batch modal")[-1].args["view"]
    assert_valid(view, view=True)
    return view


def submit_batch(server, api, view: dict, user=BOGDAN, metadata: str | None = None) -> dict:
    """Submit the batch; the modal answers at once and shows the result when it is done."""
    view_id = f"V0BATCH{next(SUBMISSIONS)}"
    published = len(api.calls_to("views.publish"))
    body = view_submission_body(
        user, view.get("callback_id", "otp_queue_batch"), {}, metadata or view["private_metadata"], view_id=view_id
    )
    status, _, answer = server.send(body)
    assert status == 200
    first = json.loads(answer)
    assert first["response_action"] == "update"
    if "Approving" not in json.dumps(first["view"]):
        return first["view"]  # refused at once: nothing was approved
    done = wait_until(
        lambda: [c for c in api.calls_to("views.update") if c.args.get("view_id") == view_id],
        what="the batch's result",
    )
    # The Home is published again after the result; waiting for it keeps that late publish
    # from landing on the next test's freshly opened Home.
    wait_until(
        lambda: [c for c in api.calls_to("views.publish")[published:] if c.args.get("user_id") == user],
        what="the Home published again after the batch",
    )
    return done[-1].args["view"]


def shown_ids(view: dict) -> list[int]:
    return [i for i, _ in json.loads(view["private_metadata"])["seen"]]


def audit_count(db, action: str, subject: str, actor: str | None = None) -> int:
    with db.session(readonly=True) as s:
        query = (
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == action, AuditEntry.subject == subject)
        )
        if actor:
            query = query.where(AuditEntry.actor == actor)
        return s.scalar(query)


def until(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)).isoformat()


# ------------------------------------------------------------------ the queue


def test_the_queue_groups_by_kind_and_subject_oldest_first_with_counts(server, module_db, api):
    a1 = submit(module_db, kind="retention-outreach", subject="client:q1", title="First to q1")
    b1 = submit(module_db, kind="renewal-note", subject="client:q1", title="Renewal for q1")
    c1 = submit(module_db, kind="retention-outreach", subject="client:q2", title="For q2")
    a2 = submit(module_db, kind="retention-outreach", subject="client:q1", title="Second to q1")
    view = home(server, api)
    ours = [
        (v["kind"], v["subject"])
        for v in (json.loads(g["accessory"]["value"]) for g in groups(view))
        if v["subject"] in ("client:q1", "client:q2")
    ]
    assert ours == [
        ("retention-outreach", "client:q1"),
        ("renewal-note", "client:q1"),
        ("retention-outreach", "client:q2"),
    ]
    first = json.dumps(group_of(view, "client:q1"))
    assert "*2* waiting" in first and f"#{a1}" in first and f"#{a2}" in first and f"#{b1}" not in first
    assert first.index(f"#{a1}") < first.index(f"#{a2}") and "Approve these 2" in first
    assert f"#{c1}" in json.dumps(group_of(view, "client:q2"))
    assert "Drafts waiting for your decision" in json.dumps(view)
    # Not an approver of these: David's Home has no such group, Pulse (the drafter) neither.
    for user in (DAVID, PULSE):
        assert not [g for g in groups(home(server, api, user)) if "client:q" in g["accessory"]["value"]]


# ------------------------------------------------------------------ approve these N


def test_approve_these_approves_exactly_the_shown_drafts_and_skips_one_decided_meanwhile(server, module_db, api):
    ids = [
        submit(module_db, subject="client:q3", title=f"Q3 note {n}", body=f"Dear Q3 <team> & co,\nnote {n} in full.")
        for n in range(3)
    ]
    messages = {i: posted(api, i) for i in ids}
    view = open_batch(server, api, group_of(home(server, api), "client:q3"))
    assert view["callback_id"] == "otp_queue_batch" and shown_ids(view) == ids
    shown = json.dumps(view["blocks"], ensure_ascii=False)
    for n, i in enumerate(ids):  # each in full: title, whole text (escaped), where it goes
        assert f"#{i} · Q3 note {n}" in shown and f"Dear Q3 &lt;team&gt; &amp; co,\\nnote {n} in full." in shown
    assert "goes to nowhere" in shown and view["submit"]["text"] == "Approve these 3"

    # Meanwhile the first is decided from its approval message.
    click(server, BOGDAN, "otp_draft_approve", ids[0], messages[ids[0]])
    wait_until(lambda: draft_row(module_db, ids[0]).status == "approved", what="the first approved meanwhile")

    result = json.dumps(submit_batch(server, api, view))
    assert f"#{ids[0]}* skipped" in result and "already approved" in result
    assert f"#{ids[1]}* approved" in result and f"#{ids[2]}* approved" in result
    for i in ids:
        draft = draft_row(module_db, i)
        assert draft.status == "approved" and [d.holder_id for d in draft.decisions] == ["bogdan"]
        assert audit_count(module_db, "draft.approve", f"draft:{i}") == 1  # each its own entry, none twice
    for i in ids[1:]:  # each approval message shows its decision
        update_ = wait_until(lambda i=i: updates(api, messages[i]), what=f"draft #{i}'s message updated")[-1]
        assert "Approved" in json.dumps(update_.args["blocks"])
    # The Home is published again without the group.
    wait_until(
        lambda: api.home.get(BOGDAN) and not [g for g in groups(api.home[BOGDAN]) if "client:q3" in json.dumps(g)]
    )


def test_a_flag_raised_after_the_batch_opened_skips_every_draft_it_touches(server, module_db, api):
    ids = [submit(module_db, subject="client:q5", title=f"Q5 {n}") for n in range(2)]
    view = open_batch(server, api, group_of(home(server, api), "client:q5"))
    with module_db.session() as s:
        flags.set_flag(s, actor_for_holder(s, "pulse"), "client:q5", "at-risk", reason="missed two calls")
    result = json.dumps(submit_batch(server, api, view))
    assert result.count("skipped:") == 2 and "changed after you opened the batch" in result
    assert all(draft_row(module_db, i).status == "pending" and not draft_row(module_db, i).decisions for i in ids)
    # Opened again, the flag is on screen, and then they are approved.
    view = open_batch(server, api, group_of(home(server, api), "client:q5"))
    assert "Flags on client:q5: at-risk by retention (missed two calls)" in json.dumps(view["blocks"])
    submit_batch(server, api, view)
    assert all(draft_row(module_db, i).status == "approved" for i in ids)


def test_a_draft_held_by_a_flag_after_the_batch_opened_is_skipped(server, module_db, api):
    held = submit(module_db, seat="sales", holder="dirk", kind="expansion", subject="client:q7", title="Upsell")
    view = open_batch(server, api, group_of(home(server, api), "client:q7"))
    with module_db.session() as s:  # policy retention-wins holds expansion drafts while this stands
        flags.set_flag(s, actor_for_holder(s, "pulse"), "client:q7", "at-risk", reason="churn signals")
    assert draft_row(module_db, held).status == "held"
    result = json.dumps(submit_batch(server, api, view))
    assert f"#{held}* skipped" in result and "is held" in result
    assert draft_row(module_db, held).status == "held" and not draft_row(module_db, held).decisions


def test_the_cap_holds_ten_oldest_shown_the_rest_wait(server, module_db, api):
    ids = [submit(module_db, subject="client:q4", title=f"Q4 {n}") for n in range(12)]
    group = group_of(home(server, api), "client:q4")
    assert "*12* waiting" in json.dumps(group) and group["accessory"]["text"]["text"] == "Approve the oldest 10"
    view = open_batch(server, api, group)
    assert shown_ids(view) == ids[:10] and "*2 more* of this group wait" in json.dumps(view["blocks"])

    # A batch naming more than ten is refused whole.
    seen = json.loads(view["private_metadata"])["seen"]
    forged = json.dumps({"seen": [*seen, [ids[10], seen[0][1]]]})
    refused = json.dumps(submit_batch(server, api, view, metadata=forged))
    assert "at most 10" in refused
    assert all(draft_row(module_db, i).status == "pending" for i in ids)

    submit_batch(server, api, view)
    assert [draft_row(module_db, i).status for i in ids] == ["approved"] * 10 + ["pending"] * 2
    assert all(audit_count(module_db, "draft.approve", f"draft:{i}") == 1 for i in ids[:10])


def test_a_stranger_cannot_approve_from_a_batch(server, module_db, api):
    draft_id = submit(module_db, subject="client:q6")
    view = open_batch(server, api, group_of(home(server, api), "client:q6"))
    result = json.dumps(submit_batch(server, api, view, user=DAVID))
    assert "skipped" in result and "not an approver" in result
    assert draft_row(module_db, draft_id).status == "pending"


# ------------------------------------------------------------------ delegation


def delegations(db) -> int:
    with db.session(readonly=True) as s:
        return s.scalar(select(func.count()).select_from(Delegation))


def test_delegation_lets_the_delegate_decide_within_the_period_and_not_after(server, module_db, api):
    _, reply = server.command(f"delegate <@{JANINE}|janine> until {until(3)} on holiday", user=BOGDAN)
    assert "*Janine* decides the drafts that wait for you" in reply["text"] and "on holiday" in reply["text"]
    assert audit_count(module_db, "delegation.set", "holder:bogdan", "holder:bogdan") == 1
    _, listed = server.command("delegate", user=DAVID)
    assert f"*Bogdan*'s approvals are decided by *Janine* through {until(3)}" in listed["text"]

    draft_id = submit(module_db, subject="client:d1", title="While Bogdan is away")
    assert group_of(home(server, api, JANINE), "client:d1")  # in the delegate's queue
    message = posted(api, draft_id)
    click(server, JANINE, "otp_draft_approve", draft_id, message)
    wait_until(lambda: draft_row(module_db, draft_id).status == "approved", what="the delegate's approval")
    assert [d.holder_id for d in draft_row(module_db, draft_id).decisions] == ["janine"]
    with module_db.session(readonly=True) as s:
        noted = s.scalars(
            select(AuditEntry).where(AuditEntry.subject == f"draft:{draft_id}", AuditEntry.action == "draft.on_behalf")
        ).all()
        assert [(e.actor, e.detail["on_behalf_of"]) for e in noted] == [("holder:janine", "bogdan")]

    # A batch by the delegate: each noted as on Bogdan's behalf.
    batch_ids = [submit(module_db, subject="client:d2", title=f"D2 {n}") for n in range(2)]
    submit_batch(server, api, open_batch(server, api, group_of(home(server, api, JANINE), "client:d2"), JANINE), JANINE)
    for i in batch_ids:
        assert draft_row(module_db, i).status == "approved"
        assert audit_count(module_db, "draft.on_behalf", f"draft:{i}", "holder:janine") == 1

    # The period over, the delegate is an approver no more.
    with module_db.session() as s:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        s.execute(
            update(Delegation)
            .where(Delegation.delegator_id == "bogdan")
            .values(starts_at=past - dt.timedelta(days=1), ends_at=past)
        )
    late = submit(module_db, subject="client:d3")
    click(server, JANINE, "otp_draft_approve", late, posted(api, late))
    assert "not an approver" in ephemeral(api)
    assert draft_row(module_db, late).status == "pending"
    assert not [g for g in groups(home(server, api, JANINE)) if "client:d3" in json.dumps(g)]


def test_delegate_off_ends_it(server, module_db, api):
    _, reply = server.command(f"delegate <@{KRISTEN}> until {until(1)}", user=DAVID)
    assert "*Kristen* decides" in reply["text"]
    _, reply = server.command("delegate off", user=DAVID)
    assert "Your delegation to *Kristen* has ended" in reply["text"]
    assert audit_count(module_db, "delegation.ended", "holder:david", "holder:david") == 1
    _, reply = server.command("delegate off", user=DAVID)
    assert "no delegation in force" in reply["text"]


def test_delegation_refusals_change_nothing(server, module_db, api):
    before = delegations(module_db)
    refusals = [
        (BOGDAN, f"delegate <@{BOGDAN}> until {until(2)}", "cannot delegate to yourself"),
        (BOGDAN, f"delegate <@{STRANGER}> until {until(2)}", "is not on the chart"),
        (BOGDAN, f"delegate nobody-here until {until(2)}", "is not on the chart"),
        (BOGDAN, f"delegate <@{JANINE}> until {until(-1)}", "is in the past"),
        (BOGDAN, f"delegate <@{JANINE}> until someday", "is not a date"),
        (BOGDAN, f"delegate <@{PULSE}> until {until(2)}", "is an agent"),
        (BOGDAN, "delegate janine", "name the person and the last day"),
        (STRANGER, f"delegate <@{JANINE}> until {until(2)}", "only a person on the chart"),
    ]
    for user, text, why in refusals:
        _, reply = server.command(text, user=user)
        assert why in reply["text"], (text, reply["text"])
    assert delegations(module_db) == before

    # No chains: Kristen delegates to David; nobody may delegate to Kristen, nor David pass his on.
    server.command(f"delegate <@{DAVID}> until {until(2)}", user=KRISTEN)
    _, reply = server.command(f"delegate <@{KRISTEN}> until {until(2)}", user=JANINE)
    assert "has delegated their own approvals to David" in reply["text"] and "does not chain" in reply["text"]
    _, reply = server.command(f"delegate <@{JANINE}> until {until(2)}", user=DAVID)
    assert "you stand in for Kristen" in reply["text"] and "does not chain" in reply["text"]
    assert delegations(module_db) == before + 1
    server.command("delegate off", user=KRISTEN)


def test_the_delegate_never_decides_their_own_draft(server, module_db, api):
    # Janine holds Customer Onboarding for this test, whose drafts Bogdan approves.
    with module_db.session() as s:
        s.execute(update(Seat).where(Seat.id == "onboarding").values(holder_id="janine", status="active"))
    draft_id = submit(module_db, seat="onboarding", holder="janine", subject="client:d4", kind="welcome")
    message = posted(api, draft_id)
    server.command(f"delegate <@{JANINE}> until {until(2)}", user=BOGDAN)
    assert not [g for g in groups(home(server, api, JANINE)) if "client:d4" in json.dumps(g)]
    click(server, JANINE, "otp_draft_approve", draft_id, message)
    assert "you drafted" in ephemeral(api)
    with module_db.session(readonly=True) as s:
        assert s.get(Draft, draft_id).status == "pending"
    server.command("delegate off", user=BOGDAN)
