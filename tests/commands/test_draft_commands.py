"""The human gate's surfaces: /otp drafts, draft, flag, unflag, flags; the App Home's
waiting drafts; and `otp draft`, `otp flag`, `otp audit` run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from sqlalchemy import select, update

from otp_bot.bot.slack.views.home import home_view
from otp_bot.bot.slack.views.queue import GROUPS_SHOWN
from otp_bot.commands import run
from otp_bot.commands.dispatch import is_read_only
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.gate import drafts
from otp_bot.store.domain.rhythm.overview import overview_for
from otp_bot.store.models import AuditEntry, Draft
from tests.support.blockkit import assert_valid, mrkdwn_texts
from tests.support.cli import OTP
from tests.support.drafts import BOGDAN, DAVID, DIRK, PULSE, decide, load, submit

READER = Actor.anonymous("U0READER")
EVIL = "<!channel> <!here> <@U123> <http://evil.example|bank.com>"


def ask(db, text, actor=BOGDAN):
    with db.session() as s:
        reply = run(s, actor, text)
    assert_valid(reply.to_slack())
    return reply


def otp(db, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "OTP_DATABASE_URL": db.url}
    return subprocess.run([OTP, *args], capture_output=True, text=True, env=env, input=input, timeout=120, check=False)


def shown(reply) -> str:
    return "\n".join([reply.text, *mrkdwn_texts(reply.blocks)])


# ------------------------------------------------------------------------- /otp drafts, /otp draft


def test_drafts_lists_what_waits_for_me(example_db):
    mine = submit(example_db, title="Acme check-in")
    submit(example_db, actor=DIRK, seat_id="sales", kind="intro", subject="lead:newco", title="Intro")
    reply = ask(example_db, "drafts")
    assert reply.ok and f"#{mine}" in reply.text and "Acme check-in" in reply.text and "Client Retention" in reply.text
    assert "pending" not in reply.text  # everything here waits for me: no status column
    assert "Nothing is waiting" in ask(example_db, "drafts", actor=DAVID).text
    assert "not on the chart" in ask(example_db, "drafts", actor=READER).text


def test_drafts_all_shows_status_and_filters(example_db):
    a = submit(example_db, title="First")
    b = submit(example_db, title="Second")
    decide(example_db, BOGDAN, a, "reject", reason="no")
    everything = ask(example_db, "drafts all", actor=READER)
    assert "rejected" in everything.text and "pending" in everything.text
    assert everything.text.index(f"#{b}") < everything.text.index(f"#{a}")  # newest first
    only = ask(example_db, "drafts --status rejected", actor=READER)
    assert f"#{a}" in only.text and f"#{b}" not in only.text
    assert "No drafts match" in ask(example_db, "drafts all --seat sales").text


def test_draft_shows_one_draft_and_its_history(example_db):
    draft_id = submit(example_db, destination="C0CLIENTS")
    decide(example_db, BOGDAN, draft_id, edited_body="Hi Acme, edited.")
    assert "only to people on the chart" in ask(example_db, f"draft {draft_id}", actor=READER).text
    reply = ask(example_db, f"draft {draft_id}", actor=DAVID)
    text = shown(reply)
    assert reply.blocks[0]["type"] == "header" and f"Draft #{draft_id}" in reply.blocks[0]["text"]["text"]
    for expected in (
        "Pulse (agent)",
        "accountable human *Bogdan*",
        "retention-outreach",
        "client:acme",
        "approved with edits by Bogdan",
        "Approved text, with edits",
        "Hi Acme, edited.",
        "C0CLIENTS",
        "delivery pending",
        "*History*",
        "submitted by Pulse",
        "approved with edits by Bogdan",
    ):
        assert expected in text, expected
    rejected = submit(example_db, title="Another")
    decide(example_db, BOGDAN, rejected, "reject", reason="Mention March")
    assert "rejected by Bogdan: Mention March" in shown(ask(example_db, f"draft #{rejected}"))


def test_a_long_body_is_cut_within_slack_limits_and_mentions_stay_inert(example_db):
    body = (EVIL + " & more\n") * 400  # ~20,000 characters, most of them escaped
    draft_id = submit(example_db, title=f"Pitch {EVIL}"[:200], body=body[:20_000])
    reply = ask(example_db, f"draft {draft_id}")
    text = shown(reply)
    assert "more characters not shown" in text and f"otp draft show {draft_id}" in text
    listing = ask(example_db, "drafts")
    for what in (text, shown(listing)):
        for raw in ("<!channel>", "<!here>", "<@U123>", "<http://evil"):
            assert raw not in what
        assert "&lt;!channel&gt;" in what and "&lt;@U123&gt;" in what


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("draft", "name one draft"),
        ("draft 1 2", "name one draft"),
        ("draft twelve", "not a draft number"),
        ("draft 999", "no draft #999"),
        ("draft 99999999999999999999999", "no draft #"),
        ("drafts mine", "`drafts all` the recent drafts"),
        ("drafts all --status lost", "not a draft status"),
        ("drafts all --seat nope", "no seat `nope`"),
        ("flag", "name the subject and the flag"),
        ("flag client:acme", "name the subject and the flag"),
        ("flag client:acme at-risk --until soon", "not a time"),
        ("flag client:acme at-risk --until 99999999d", "too far ahead"),
        ("flag client:acme At-Risk! ", "not a flag name"),
        ("flag client:acme at-risk --seat sales", "do not hold seat `sales`"),
        ("flag client:acme at-risk --colour red", "unknown option --colour"),
        ("unflag client:acme", "name the subject and the flag"),
        ("unflag client:acme at-risk", "not flagged at-risk"),
        ("flags a b", "at most one subject"),
    ],
)
def test_bad_input_gets_a_clear_reply(example_db, text, words):
    reply = ask(example_db, text, actor=PULSE)
    assert not reply.ok and words.lower() in reply.text.lower(), reply.text


def test_usage_lines(example_db):
    assert "Usage: `/otp flag <subject>" in ask(example_db, "flag x", actor=PULSE).text.replace("&lt;", "<").replace(
        "&gt;", ">"
    )
    assert "Usage: `/otp draft" in ask(example_db, "draft").text


# ------------------------------------------------------------------------- /otp flag, unflag, flags


def test_flag_holds_unflag_releases(example_db):
    reply = ask(example_db, "flag client:acme at-risk two missed calls --until 3d", actor=PULSE)
    assert reply.ok and "Flagged" in reply.text and "two missed calls" in reply.text and "until" in reply.text
    assert "policy *retention-wins* holds new expansion drafts" in reply.text
    again = ask(example_db, "flag client:acme at-risk still quiet", actor=PULSE)
    assert "Already flagged" in again.text and "still quiet" in again.text
    listed = ask(example_db, "flags client:acme", actor=READER)
    assert "*client:acme* is at-risk" in listed.text and "Client Retention (Pulse)" in listed.text
    assert "No flags on client:beta" in ask(example_db, "flags client:beta").text

    held = submit(example_db, actor=DIRK, seat_id="sales", kind="expansion", title="Upsell")
    assert load(example_db, held).status == "held"
    assert "held: client:acme is flagged at-risk" in ask(example_db, f"draft {held}").text
    lifted = ask(example_db, "unflag client:acme at-risk", actor=PULSE)
    assert lifted.ok and f"Draft *#{held}*" in lifted.text and "released to approval" in lifted.text
    assert load(example_db, held).status == "pending"
    assert "No flags" in ask(example_db, "flags").text


def test_a_flag_from_a_seat_no_policy_names(example_db):
    reply = ask(example_db, "flag client:acme at-risk", actor=DIRK)
    assert reply.ok and "No policy holds drafts by this flag" in reply.text


def test_readers_may_not_flag_and_flag_commands_write(example_db):
    reply = ask(example_db, "flag client:acme at-risk", actor=READER)
    assert not reply.ok and "can read but not flag" in reply.text
    assert not is_read_only("flag client:acme at-risk") and not is_read_only("unflag client:acme at-risk")
    assert is_read_only("drafts") and is_read_only("draft 3") and is_read_only("flags")


# ------------------------------------------------------------------------- App Home


def home(db, actor, user="U02BGD4N8RM"):
    with db.session() as s:
        view = home_view(overview_for(s, actor), user)
    assert_valid(view, view=True)
    return json.dumps(view)


def test_home_lists_drafts_waiting_for_me(example_db):
    assert "Drafts waiting for your decision" not in home(example_db, BOGDAN)
    draft_id = submit(example_db, title="Acme check-in")
    view = home(example_db, BOGDAN)
    assert "Drafts waiting for your decision" in view and f"#{draft_id}" in view and "Acme check-in" in view
    assert "retention-outreach" in view and "client:acme" in view and "just now" in view
    assert "Drafts waiting" not in home(example_db, DAVID, "U02DSTL7K1Q")


def test_home_with_many_waiting_drafts_stays_within_limits(example_db):
    for i in range(GROUPS_SHOWN + 5):  # each its own subject: a group each
        submit(example_db, title=f"Draft {i} " + "<&>" * 60, subject=f"client:{'x' * 150}{i}")
    view = home(example_db, BOGDAN)
    assert "More than fit here" in view and "/otp drafts" in view


# ------------------------------------------------------------------------- the `otp` command line


def submit_cli(db, *extra, body="Hi Acme & co", seat="retention", kind="retention-outreach"):
    return otp(
        db,
        "draft",
        "submit",
        "--seat",
        seat,
        "--kind",
        kind,
        "--subject",
        "client:acme",
        "--title",
        "Check in",
        "--body-file",
        "-",
        *extra,
        input=body,
    )


def test_cli_submit_show_list_withdraw(example_db):
    first = submit_cli(example_db, "--key", "k1", "--destination", "C0CLIENTS")
    assert first.returncode == 0, first.stderr
    draft_id = int(first.stdout.strip().splitlines()[-1])
    assert f"draft #{draft_id} submitted, pending: waiting for a decision by Bogdan" in first.stderr
    again = submit_cli(example_db, "--key", "k1", "--destination", "C0CLIENTS")
    assert again.stdout.strip() == str(draft_id) and "already submitted" in again.stderr
    clash = submit_cli(example_db, "--key", "k1", body="different")
    assert clash.returncode == 2 and "different content" in clash.stderr

    decide(example_db, BOGDAN, draft_id, edited_body="Hi Acme, edited")
    show = otp(example_db, "draft", "show", str(draft_id))
    assert show.returncode == 0, show.stderr
    for expected in (
        "Client Retention (retention), drafted by Pulse (agent)",
        "status:      approved: approved with edits",
        "Hi Acme & co",
        "final text (edited):",
        "Hi Acme, edited",
        "Bogdan approved with edits",
        "destination: C0CLIENTS (delivery: pending)",
        "submitted by an operator",
    ):
        assert expected in show.stdout, expected
    data = json.loads(otp(example_db, "draft", "show", str(draft_id), "--json").stdout)
    assert data["status"] == "approved" and data["final_text"] == "Hi Acme, edited" and data["edited"]
    assert data["decisions"][0]["name"] == "Bogdan" and data["decisions"][0]["edited"]
    assert data["outcome"].startswith("approved with edits by Bogdan")

    other = int(submit_cli(example_db, "--as", "pulse", "--not-customer-facing").stdout.split()[-1])
    assert not load(example_db, other).customer_facing and load(example_db, other).submitted_by == "holder:pulse"
    listed = otp(example_db, "draft", "list", "--status", "pending")
    assert f"#{other}" in listed.stdout and f"#{draft_id} " not in listed.stdout
    assert otp(example_db, "draft", "withdraw", str(other), "--as", "dirk").returncode == 2
    done = otp(example_db, "draft", "withdraw", str(other), "--as", "pulse")
    assert done.returncode == 0 and f"draft #{other} withdrawn" in done.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--as", "dirk"), "seats you hold"),
        (("--as", "nobody"), "no holder `nobody`"),
        (("--destination", "somewhere"), "not a destination"),
    ],
)
def test_cli_submit_bad_input_exits_2(example_db, args, words):
    result = submit_cli(example_db, *args)
    assert result.returncode == 2 and words in result.stderr and result.stdout == ""


def test_cli_bad_input_exits_2(example_db, tmp_path):
    missing = otp(
        example_db,
        "draft",
        "submit",
        "--seat",
        "retention",
        "--kind",
        "k",
        "--subject",
        "s",
        "--title",
        "t",
        "--body-file",
        str(tmp_path / "nope.md"),
    )
    assert missing.returncode == 2 and "cannot read the body" in missing.stderr
    assert otp(example_db, "draft", "show", "42").returncode == 2
    assert "not a draft status" in otp(example_db, "draft", "list", "--status", "lost").stderr
    assert otp(example_db, "flag", "set", "client:acme", "at-risk").returncode == 2  # an operator names the seat


def test_cli_flags_hold_and_release(example_db):
    flagged = otp(
        example_db,
        "flag",
        "set",
        "client:acme",
        "at-risk",
        "--seat",
        "retention",
        "--reason",
        "two missed calls",
        "--until",
        "3d",
    )
    assert flagged.returncode == 0, flagged.stderr
    assert "client:acme at-risk by retention (Pulse)" in flagged.stdout and "until" in flagged.stdout
    assert "policy retention-wins holds new expansion drafts" in flagged.stderr
    assert "two missed calls" in otp(example_db, "flag", "list").stdout
    held = submit_cli(example_db, "--as", "dirk", seat="sales", kind="expansion")
    draft_id = int(held.stdout.split()[-1])
    assert "held: client:acme is flagged at-risk by Client Retention (Pulse): two missed calls" in held.stderr
    lifted = otp(example_db, "flag", "lift", "client:acme", "at-risk", "--as", "pulse")
    assert lifted.returncode == 0 and f"released draft #{draft_id}" in lifted.stdout
    assert load(example_db, draft_id).status == "pending"
    assert otp(example_db, "flag", "lift", "client:acme", "at-risk").returncode == 2  # no longer flagged


def test_cli_audit_verify_finds_a_changed_entry(example_db):
    draft_id = submit(example_db)
    decide(example_db, BOGDAN, draft_id, "reject", reason="no")
    intact = otp(example_db, "audit", "verify")
    assert intact.returncode == 0 and intact.stdout.startswith("audit log intact (")
    with example_db.session() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "draft.reject"))
        s.execute(update(AuditEntry).where(AuditEntry.id == entry.id).values(detail={"reason": "yes"}))
    broken = otp(example_db, "audit", "verify")
    assert broken.returncode == 1
    assert f"broken at entry {entry.id} (draft.reject draft:{draft_id} at " in broken.stdout


def test_decisions_through_the_domain_show_in_the_cli_json(example_db):
    draft_id = submit(example_db, actor=DIRK, seat_id="sales", kind="intro", subject="lead:newco")
    with example_db.session() as s:
        drafts.record_message(s, draft_id, "C0APPROVALS", "1700000000.000100")
    data = json.loads(otp(example_db, "draft", "show", str(draft_id), "--json").stdout)
    assert data["messages"] == [{"channel": "C0APPROVALS", "ts": "1700000000.000100", "purpose": "approval"}]
    assert data["route"] == {
        "channel": "C0APPROVALS",
        "approvers": ["bogdan"],
        "approver_names": "Bogdan",
        "usergroup": None,
        "required": 1,
        "approvals": 0,
        "escalated_to": None,
    }
    with example_db.session() as s:
        assert s.get(Draft, draft_id).status == "pending"
