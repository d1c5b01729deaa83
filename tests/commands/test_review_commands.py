"""/otp issue(s), todo(s), rock(s) against the example org: the words people type, good and bad."""

from __future__ import annotations

import datetime as dt

from otp_bot.commands import run
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.review import issues, rocks, todos
from otp_bot.store.domain.review.quarters import quarter_bounds, quarter_of
from tests.support.blockkit import assert_valid

BOGDAN = Actor(label="Bogdan", holder_id="bogdan")
JANINE = Actor(label="Janine", holder_id="janine")
PULSE = Actor(label="Pulse", holder_id="pulse")
STRANGER = Actor.anonymous("U0STRANGER")


def ask(db, text, actor=BOGDAN):
    with db.session() as s:
        reply = run(s, actor, text)
    assert_valid(reply.to_slack())
    return reply


def test_an_issue_raised_solved_into_todos_and_listed(example_db):
    raised = ask(example_db, "issue Churn is up in *SMB* <!channel> --seat retention")
    assert raised.ok and "#1" in raised.text and "number 1 on the list" in raised.text
    assert "<!channel>" not in raised.text and "&lt;!channel&gt;" in raised.text
    ask(example_db, "issue Ad spend over budget --seat analytics")
    listed = ask(example_db, "issues all")
    assert listed.text.index("Churn") < listed.text.index("Ad spend")
    solved = ask(
        example_db,
        'issue solve 1 Call the three largest clients --todo "retention: draft check-ins" '
        '--todo "coo: call Acme by friday"',
    )
    assert solved.ok and "to-do #1 for `retention`" in solved.text and "to-do #2 for `coo`" in solved.text
    shown = ask(example_db, "issue 1")
    assert "Decision" in shown.text and "draft check-ins" in shown.text
    assert "Churn" not in ask(example_db, "issues all").text  # solved: off the list
    mine = ask(example_db, "todos", actor=PULSE)
    assert "draft check-ins" in mine.text and "call Acme" not in mine.text


def test_bad_issue_commands_say_why_and_change_nothing(example_db):
    assert "say what the issue is" in ask(example_db, "issue").text
    assert not ask(example_db, "issue solve x fixed").ok
    ask(example_db, "issue Late invoices --seat accounting")
    bad_todo = ask(example_db, 'issue solve 1 Chase them --todo "nobody-seat: chase"')
    assert not bad_todo.ok and "nobody-seat" in bad_todo.text
    bad_form = ask(example_db, 'issue solve 1 Chase them --todo "chase them"')
    assert not bad_form.ok and "seat: what" in bad_form.text
    stranger = ask(example_db, "issue Spam --seat retention", actor=STRANGER)
    assert not stranger.ok and "on the chart" in stranger.text
    with example_db.session(readonly=True) as s:
        assert [i.status for i in issues.list_issues(s)] == ["open"] and not todos.list_todos(s)


def test_todos_added_due_as_typed_done_and_refused(example_db):
    added = ask(example_db, "todo retention Send the churn list --due friday")
    assert added.ok and "#1" in added.text
    with example_db.session(readonly=True) as s:
        due = todos.get_todo(s, 1).due
    assert due.weekday() == 4
    assert not ask(example_db, "todo retention Something --due someday").ok
    refused = ask(example_db, "todo done 1", actor=JANINE)
    assert not refused.ok and "retention" in refused.text
    assert ask(example_db, "todo done 1 sent on Tuesday", actor=PULSE).ok
    again = ask(example_db, "todo done 1", actor=PULSE)
    assert not again.ok and "already done" in again.text
    assert not ask(example_db, "todo onboarding Write the checklist").ok  # nobody holds it


def test_rocks_set_tracked_and_confirmed(example_db):
    with example_db.session(readonly=True) as s:
        quarter = quarter_of(todos.org_today(s))
    last = quarter_bounds(quarter)[1]
    added = ask(example_db, f'rock add retention "Churn under 2%" --due {last} --milestone "Playbook written"')
    assert added.ok and quarter in added.text
    outside = ask(example_db, f"rock add retention Later --due {last + dt.timedelta(days=1)} --quarter {quarter}")
    assert not outside.ok and "due inside it" in outside.text
    proposed = ask(example_db, "rock 1 off", actor=PULSE)
    assert "proposed" in proposed.text
    listed = ask(example_db, "rocks retention")
    assert "awaiting confirmation" in listed.text and "on track" in listed.text
    assert ask(example_db, "rock confirm 1").ok
    assert "off track" in ask(example_db, "rocks all").text
    assert ask(example_db, "rock 1 milestone 1", actor=PULSE).ok
    with example_db.session(readonly=True) as s:
        assert rocks.get_rock(s, 1).milestones[0]["done"] is True
    assert not ask(example_db, "rocks --quarter 2026-Q9").ok


def test_the_words_people_type_are_kept_and_read(example_db):
    raised = ask(example_db, "issue Client's bundle wasn't filed; the Müller matter’s late --seat accounting")
    with example_db.session(readonly=True) as s:
        assert issues.get_issue(s, 1).title == "Client's bundle wasn't filed; the Müller matter’s late"
    assert raised.ok and "#1" in ask(example_db, "issue #1").text
    solved = ask(
        example_db,
        'issue solve #1 We\'ll chase it --todo "accounting: chase the lender by 20 Dec" '
        '--todo "coo: follow up by email"',
    )
    assert solved.ok
    with example_db.session(readonly=True) as s:
        chase, follow = todos.list_todos(s, seat_id="accounting")[0], todos.list_todos(s, seat_id="coo")[0]
        today = todos.org_today(s)
        assert issues.get_issue(s, 1).decision == "We'll chase it"
    assert chase.text == "chase the lender" and (chase.due.month, chase.due.day) == (12, 20)
    assert follow.text == "follow up by email" and follow.due == today + dt.timedelta(days=7)
    added = ask(example_db, "todo coo: ring Mrs O'Neil --due in 3 days")
    assert added.ok and "Mrs O'Neil" in added.text
    with example_db.session(readonly=True) as s:
        assert todos.get_todo(s, 3).due == today + dt.timedelta(days=3)
    ambiguous = ask(example_db, "todo coo Plan --due 5/6")
    assert not ambiguous.ok and "could be" in ambiguous.text


def test_a_supervisor_sees_their_agents_items_as_their_own(example_db):
    ask(example_db, "todo retention Send the churn list", actor=PULSE)
    assert "Send the churn list" in ask(example_db, "todos").text  # Bogdan supervises Pulse
    assert "Send the churn list" not in ask(example_db, "todos mine", actor=JANINE).text


def test_an_empty_seats_items_show_in_the_lists_of_the_seat_above(example_db):
    ask(example_db, "issue Nobody owns onboarding calls --seat coo")
    with example_db.session() as s:
        issue = issues.get_issue(s, 1)
        issue.seat_id = "onboarding"  # raised while it was held; the seat is vacant now
    assert "Nobody owns onboarding calls" in ask(example_db, "issues").text  # onboarding reports to coo
    assert "Nobody owns onboarding calls" not in ask(example_db, "issues", actor=JANINE).text


def test_the_weeks_review_at_a_glance_and_a_headline_by_command(example_db):
    ask(example_db, "issue Churn is up --seat retention")
    given = ask(example_db, "headline Two clients renewed <!here>")
    assert given.ok and "&lt;!here&gt;" in given.text
    status = ask(example_db, "review")
    assert "facilitator Bogdan" in status.text and "1 open issue(s)" in status.text
    assert "headlines: 1 of 8" in status.text and "still to come: David" in status.text
    assert not ask(example_db, "headline").ok
    assert not ask(example_db, "headline hello", actor=STRANGER).ok


def test_a_message_issue_links_its_permalink_and_nothing_else(example_db):
    with example_db.session() as s:
        good = issues.raise_issue(
            s,
            BOGDAN,
            "From a thread",
            seat_id="coo",
            source="message",
            message_ref="https://acme.slack.com/archives/C0GENERAL/p1700000000000100",
        )
        bad = issues.raise_issue(
            s, BOGDAN, "Forged", seat_id="coo", source="message", message_ref="https://evil.example/|<!channel>"
        )
        good_id, bad_id = good.id, bad.id
    assert (
        "<https://acme.slack.com/archives/C0GENERAL/p1700000000000100|a message>"
        in ask(example_db, f"issue {good_id}").text
    )
    shown = ask(example_db, f"issue {bad_id}").text
    assert "evil" not in shown and "from a message" in shown


def test_a_long_list_counts_what_it_leaves_out(example_db):
    with example_db.session() as s:
        for n in range(120):
            todos.add_todo(s, BOGDAN, "coo", f"Call client number {n} about the renewal terms")
    reply = ask(example_db, "todos coo")
    assert reply.text.endswith("and 80 more: `/otp todos <seat>` narrows the list")
    sections = [b["text"]["text"] for b in reply.blocks[1:] if b["type"] == "section"]
    shown = sum(t.count("\n#") + t.startswith("#") for t in sections)
    closing = [b["elements"][0]["text"] for b in reply.blocks if b["type"] == "context"]
    assert closing == ([f"and {120 - shown} more: `/otp todos <seat>` narrows the list"] if shown < 120 else [])
