"""`otp token …` and `otp agent …` as an operator and an agent run them: subprocesses, the
agent ones against a real `otp serve` over HTTP."""

from __future__ import annotations

import json
import subprocess
import threading
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from otp_bot.store.models import MetricValue
from tests.support.agents import FAST, decide
from tests.support.cli import otp_process
from tests.support.serve import free_port


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return FAST


def agent(server, token: str, *args: str, **kw) -> subprocess.CompletedProcess:
    return otp_process("agent", *args, env={"OTP_URL": server.url, "OTP_TOKEN": token}, **kw)


def key() -> str:
    return f"cli-{uuid.uuid4().hex[:10]}"


# ------------------------------------------------------------------ tokens


def test_token_create_list_revoke(module_db, server):
    store = {"OTP_DATABASE_URL": module_db.url}
    made = otp_process("token", "create", "--holder", "tally", "--seat", "retention", "--name", "tally-cli", env=store)
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("otp_") and made.stdout.count(secret) == 1 and secret not in made.stderr
    assert (
        "acts as Tally (tally) for kpi" in made.stderr
        and "retention" in made.stderr
        and "not shown again" in made.stderr
    )
    me = httpx.get(f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()
    assert me["holder"]["id"] == "tally" and me["push_seats"] == ["retention"]

    listed = otp_process("token", "list", env=store)
    assert listed.returncode == 0 and secret not in listed.stdout
    row = next(line for line in listed.stdout.splitlines() if "tally-cli" in line)
    prefix = row.split()[1]
    assert secret.startswith(prefix) and "retention" in row and "no" in row.split()  # not admin
    assert row.split()[-2:] != ["never"]  # it was just used

    revoked = otp_process("token", "revoke", prefix, env=store)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert httpx.get(f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert "tally-cli" not in otp_process("token", "list", env=store).stdout
    assert "tally-cli" in otp_process("token", "list", "--all", env=store).stdout
    assert "already revoked" in otp_process("token", "revoke", prefix, env=store).stdout


def test_token_create_refuses_bad_input(module_db):
    store = {"OTP_DATABASE_URL": module_db.url}
    for args, words in [
        ((), "--holder"),
        (("--holder", "nobody"), "no holder `nobody`"),
        (("--holder", "pulse", "--seat", "nowhere"), "no seat `nowhere`"),
    ]:
        r = otp_process("token", "create", *args, env=store)
        assert r.returncode == 2 and words in r.stderr and r.stdout == "", (args, r.stdout, r.stderr)
    r = otp_process("token", "revoke", "999999", env=store)
    assert r.returncode == 2 and "no token" in r.stderr


def test_token_webhook_set_refused_and_cleared(module_db):
    store = {"OTP_DATABASE_URL": module_db.url}
    made = otp_process("token", "create", "--holder", "pulse", "--name", "pulse-hook", env=store)
    token_id = made.stderr.split()[1]
    url = "https://agents.example.com/otp/decisions?k=s3cret"
    for args, words in [
        (("http://10.0.0.5/hook",), "10.0.0.5 is a private address"),
        (("http://localhost:9000/",), "loopback"),
        (("ftp://agents.example.com/",), "https:// or http://"),
        ((), "give a URL"),
        ((url, "--clear"), "not both"),
    ]:
        r = otp_process("token", "webhook", token_id, *args, env=store)
        assert r.returncode == 2 and words in r.stderr and r.stdout == "", (args, r.stdout, r.stderr)
    row = lambda: next(ln for ln in otp_process("token", "list", env=store).stdout.splitlines() if "pulse-hook" in ln)  # noqa: E731
    assert row().split()[-1] == "-"  # nothing stored

    done = otp_process("token", "webhook", token_id, url, env=store)
    assert done.returncode == 0, done.stderr
    secret = done.stdout.strip().splitlines()[-1]
    assert secret.startswith("whsec_") and secret not in done.stderr and "not shown again" in done.stderr
    listed = row()
    assert listed.split()[-1] == "https://agents.example.com/otp/decisions" and "s3cret" not in listed
    again = otp_process("token", "webhook", token_id, url, env=store).stdout.strip().splitlines()[-1]
    assert again.startswith("whsec_") and again != secret  # set again: a new secret

    cleared = otp_process("token", "webhook", token_id, "--clear", env=store)
    assert cleared.returncode == 0 and "no webhook" in cleared.stdout and row().split()[-1] == "-"
    r = otp_process("token", "webhook", "999999", url, env=store)
    assert r.returncode == 2 and "no token" in r.stderr


def test_an_admin_token_needs_no_holder(module_db, server):
    made = otp_process("token", "create", "--admin", "--name", "ops", env={"OTP_DATABASE_URL": module_db.url})
    secret = made.stdout.strip().splitlines()[-1]
    me = httpx.get(f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()
    assert me["admin"] is True and me["holder"] is None


# ------------------------------------------------------------------ agent: push and mine


def test_push_then_push_again(module_db, server, tokens):
    k = key()
    first = agent(server, tokens.pulse, "push", "early-flags", "4", "--key", k, "--note", "from the cli")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("early-flags 20") and "recorded 4, on track" in first.stdout
    again = agent(server, tokens.pulse, "push", "early-flags", "1", "--key", k)
    assert again.returncode == 0 and "already recorded (same key)" in again.stdout and "4" in again.stdout
    as_json = agent(server, tokens.pulse, "push", "clients-lost", "2", "--period", "last", "--json")
    result = json.loads(as_json.stdout)
    assert result["outcome"] == "recorded" and result["on_track"] is False
    with module_db.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(MetricValue).where(MetricValue.idem_key == k)) == 1


def test_push_refusals_exit_2_with_the_problem(server, tokens):
    other = agent(server, tokens.pulse, "push", "mrr", "1")
    assert (
        other.returncode == 2
        and "Not allowed for this token" in other.stderr
        and "`mrr` belongs to seat `ceo`" in other.stderr
    )
    bad = agent(server, tokens.pulse, "push", "early-flags", "lots")
    assert bad.returncode == 2 and "`lots` is not a number" in bad.stderr
    revoked = agent(server, tokens.revoked, "push", "early-flags", "1")
    assert revoked.returncode == 2 and "Missing or invalid API token" in revoked.stderr
    assert tokens.revoked not in revoked.stderr + revoked.stdout  # never echoed


def test_missing_token_and_unreachable_server(server, tmp_path):
    none = otp_process("agent", "push", "early-flags", "1", env={"OTP_URL": server.url}, cwd=tmp_path)
    assert none.returncode == 2 and "OTP_TOKEN is not set" in none.stderr
    down = otp_process(
        "agent",
        "push",
        "early-flags",
        "1",
        env={"OTP_URL": f"http://127.0.0.1:{free_port()}", "OTP_TOKEN": "otp_whatever"},
        cwd=tmp_path,
    )
    assert down.returncode == 1 and "cannot reach the OTP API" in down.stderr and "otp serve" in down.stderr
    assert "Traceback" not in down.stderr


def test_settings_come_from_a_dotenv_file(server, tokens, tmp_path):
    (tmp_path / ".env").write_text(f"OTP_URL={server.url}\nOTP_TOKEN={tokens.tally}\n")
    mine = otp_process("agent", "mine", cwd=tmp_path)
    assert mine.returncode == 0, mine.stderr
    seats = {line.split()[1] for line in mine.stdout.splitlines()}
    assert seats == {"kpi", "retention"}
    assert json.loads(otp_process("agent", "mine", "--json", cwd=tmp_path).stdout)[0]["id"]


# ------------------------------------------------------------------ agent: drafts and waiting


def test_draft_then_wait_for_the_decision(module_db, server, tokens, tmp_path):
    body = tmp_path / "body.md"
    body.write_text("Hi Jo,\nwe noticed fewer logins this month. Can we help?\n")
    k = key()
    args = (
        "draft",
        "--seat",
        "retention",
        "--kind",
        "retention-outreach",
        "--subject",
        "client:acme",
        "--title",
        "Check in with Acme",
        "--body-file",
        str(body),
        "--key",
        k,
    )
    made = agent(server, tokens.pulse, *args)
    assert made.returncode == 0, made.stderr
    draft_id = int(made.stdout.strip().splitlines()[-1])
    assert f"draft #{draft_id} submitted, pending: waiting for a decision by Bogdan" in made.stderr
    again = agent(server, tokens.pulse, *args)
    assert again.stdout.strip() == str(draft_id) and "already submitted with this key" in again.stderr

    threading.Timer(1.0, decide, args=(module_db, draft_id, "approve")).start()
    waited = agent(server, tokens.pulse, "wait", str(draft_id), "--timeout", "30")
    assert waited.returncode == 0, waited.stderr
    lines = waited.stdout.splitlines()
    assert lines[0].startswith(f"draft #{draft_id} approved by Bogdan") and lines[1] == "Hi Jo,"


def test_wait_times_out_with_exit_1(server, tokens):
    made = agent(
        server,
        tokens.pulse,
        "draft",
        "--seat",
        "retention",
        "--kind",
        "retention-outreach",
        "--subject",
        "client:acme",
        "--title",
        "Another",
        "--body-file",
        "-",
        stdin="Hello there",
    )
    draft_id = made.stdout.strip().splitlines()[-1]
    waited = agent(server, tokens.pulse, "wait", draft_id, "--timeout", "1", "--json")
    assert waited.returncode == 1 and "still pending after 1s" in waited.stderr
    assert json.loads(waited.stdout)["status"] == "pending"


def test_draft_refusals(server, tokens, tmp_path):
    other = agent(
        server,
        tokens.dirk,
        "draft",
        "--seat",
        "retention",
        "--kind",
        "x",
        "--subject",
        "client:a",
        "--title",
        "t",
        "--body-file",
        "-",
        stdin="hi",
    )
    assert other.returncode == 2 and "only for seats you hold" in other.stderr
    missing = agent(
        server,
        tokens.pulse,
        "draft",
        "--seat",
        "retention",
        "--kind",
        "x",
        "--subject",
        "client:a",
        "--title",
        "t",
        "--body-file",
        str(tmp_path / "nope.md"),
    )
    assert missing.returncode == 2 and "cannot read the body" in missing.stderr
    unknown = agent(server, tokens.pulse, "wait", "999999", "--timeout", "0")
    assert unknown.returncode == 2 and "there is no draft #999999" in unknown.stderr


# ------------------------------------------------------------------ agent: flags


def test_flag_set_list_lift(server, tokens):
    subject = f"client:{key()}"
    made = agent(server, tokens.pulse, "flag", "set", subject, "at-risk", "--reason", "usage down 40%", "--until", "3d")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"flagged {subject} at-risk by retention until") and "usage down 40%" in made.stdout
    assert "policy retention-wins holds drafts" in made.stderr
    listed = agent(server, tokens.dirk, "flag", "list", subject)
    assert listed.stdout.startswith(f"{subject} at-risk by retention")
    refused = agent(server, tokens.dirk, "flag", "lift", subject, "at-risk")
    assert refused.returncode == 2 and "can lift this flag" in refused.stderr
    lifted = agent(server, tokens.pulse, "flag", "lift", subject, "at-risk", "--json")
    assert lifted.returncode == 0 and json.loads(lifted.stdout)["flag"]["subject"] == subject
    assert "no flags on" in agent(server, tokens.dirk, "flag", "list", subject).stderr
