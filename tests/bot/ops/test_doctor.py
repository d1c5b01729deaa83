"""`otp doctor` as an operator runs it (the console script), against the Slack stand-in and the
example org's store: all green on a good install; each broken thing named with its fix, exit 1."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator

import pytest
import yaml

from otp_bot.bot.ops.doctor.slack_checks import MANIFEST_SCOPES
from otp_bot.store.db import Database
from tests.support.cli import OTP
from tests.support.paths import EXAMPLES, REPO
from tests.support.serve import SECRET, TOKEN, Server
from tests.support.slack.api import SlackAPI

EXAMPLE = yaml.safe_load((EXAMPLES / "acme-agency.yaml").read_text())
HUMANS = [h for h in EXAMPLE["holders"] if h["kind"] == "human"]
CHANNELS = sorted({r["channel"] for r in EXAMPLE["approvals"]} | {s["channel"] for s in EXAMPLE["schedules"]})


@pytest.fixture
def slack() -> Iterator[SlackAPI]:
    """The workspace the example org is installed in: its people are Slack users."""
    users = {h["slack_user"]: {"real_name": h["name"], "email": h["email"]} for h in HUMANS}
    with SlackAPI(tokens=[TOKEN], users=users) as api:
        yield api


def doctor(db: Database | str, api: SlackAPI, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OTP_", "SLACK_"))},
        "COLUMNS": "200",
        "OTP_DATABASE_URL": db if isinstance(db, str) else db.url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_API_URL": api.url,
        **env,
    }
    return subprocess.run([OTP, "doctor", *args], capture_output=True, text=True, env=environment, timeout=120)


def checks(result: subprocess.CompletedProcess[str]) -> dict[str, dict]:
    return {c["name"]: c for c in json.loads(result.stdout)["checks"]}


def test_the_scopes_checked_are_the_manifests():
    manifest = yaml.safe_load((REPO / "manifest.yml").read_text())
    assert sorted(MANIFEST_SCOPES) == sorted(manifest["oauth_config"]["scopes"]["bot"])


def test_a_good_install_is_all_green(example_db, slack):
    result = doctor(example_db, slack)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert not [line for line in lines if line.startswith("✗")]
    for expected in ("✓ Bot token: valid: @otp in OTP Test", "✓ Scopes: all 13", "✓ Database:", "✓ Chart: Acme Agency"):
        assert any(line.startswith(expected) for line in lines), expected
    for channel in CHANNELS:  # every channel the chart names was asked about, and the bot is in each
        assert any(line.startswith(f"✓ #{channel.lower()} ({channel})") for line in lines), channel
    assert {c.args["channel"] for c in slack.calls_to("conversations.info")} == set(CHANNELS)
    assert {c.args["user"] for c in slack.calls_to("users.info")} == {h["slack_user"] for h in HUMANS}
    assert f"✓ People: all {len(HUMANS)} people on the chart are Slack users" in lines
    schedules = lines.index(next(line for line in lines if line.startswith("✓ Schedules")))
    assert lines[schedules + 1].strip().startswith("briefing: the briefing to C0LEADERSHIP, next ")
    assert "– Request URL: not checked" in result.stdout

    as_json = doctor(example_db, slack, "--json")
    assert as_json.returncode == 0 and json.loads(as_json.stdout)["ok"] is True
    found = checks(as_json)
    assert {f"channel:{c}" for c in CHANNELS} <= found.keys()
    assert all(c["status"] in ("ok", "skip") for c in found.values())
    assert len(found["schedules"]["lines"]) == len(EXAMPLE["schedules"])


def test_a_missing_scope_is_named_with_the_fix(example_db, slack):
    slack.scopes -= {"channels:read", "users:read.email"}
    result = doctor(example_db, slack)
    assert result.returncode == 1
    assert "✗ Scopes: missing channels:read, users:read.email (manifest.yml asks for them)" in result.stdout
    assert "Reinstall to Workspace" in result.stdout
    # and what the missing scope breaks: Slack will not say whether the bot is in the channels
    assert "✗ C0APPROVALS: could not check C0APPROVALS: the token lacks channels:read" in result.stdout
    found = checks(doctor(example_db, slack, "--json"))
    assert found["scopes"]["status"] == "fail" and "channels:read" in found["scopes"]["detail"]


def test_a_channel_the_bot_is_not_in_is_named_with_the_invite(example_db, slack):
    slack.member_of = set(CHANNELS) - {"C0APPROVALS"}
    slack.channels["C0APPROVALS"] = {"name": "approvals"}
    result = doctor(example_db, slack)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    i = lines.index(next(line for line in lines if line.startswith("✗ #approvals (C0APPROVALS)")))
    assert "the bot is not in it; it posts approvals for retention" in lines[i]
    assert lines[i + 1].strip() == "fix: type `/invite @otp` in #approvals"
    assert [line for line in lines if line.startswith("✗")] == [lines[i]]  # nothing else is wrong
    assert checks(doctor(example_db, slack, "--json"))["channel:C0APPROVALS"]["status"] == "fail"


def test_a_bad_token_fails_and_what_needs_it_is_not_checked(example_db, slack):
    result = doctor(example_db, slack, SLACK_BOT_TOKEN="xoxb-revoked-long-ago")
    assert result.returncode == 1
    assert "✗ Bot token: Slack refused the bot token (invalid_auth)" in result.stdout
    assert "fix: copy the Bot User OAuth Token" in result.stdout
    assert "– People: not checked: the bot token did not work" in result.stdout
    assert "✓ Database:" in result.stdout  # the store is still checked
    assert {c.error for c in slack.take_rejections()} == {"invalid_auth"}

    unset = doctor(example_db, slack, "--json", SLACK_BOT_TOKEN="")
    assert unset.returncode == 1 and "SLACK_BOT_TOKEN is not set" in checks(unset)["bot-token"]["detail"]


def test_people_who_are_not_slack_users_are_listed(example_db, slack):
    gone = HUMANS[2]
    del slack.users[gone["slack_user"]]
    slack.users[HUMANS[3]["slack_user"]]["deleted"] = True
    found = checks(doctor(example_db, slack, "--json"))
    people = found["people"]
    assert people["status"] == "fail" and people["detail"].startswith(f"2 of {len(HUMANS)} people")
    assert any(gone["name"] in line and gone["slack_user"] in line for line in people["lines"])
    assert any("deactivated" in line for line in people["lines"])


def test_a_store_that_is_not_there_or_not_migrated_is_named(example_db, slack, tmp_path):
    missing = doctor(f"sqlite:///{tmp_path / 'nowhere.db'}", slack, "--json")
    found = checks(missing)
    assert missing.returncode == 1 and found["database"]["detail"].startswith("no store at")
    assert found["channels"]["status"] == found["schedules"]["status"] == "skip"
    assert not (tmp_path / "nowhere.db").exists()  # the doctor did not create it

    with example_db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    behind = checks(doctor(example_db, slack, "--json"))["database"]
    assert behind["status"] == "fail" and "at migration 0001" in behind["detail"]
    assert "otp db upgrade" in behind["fix"]
    with example_db.engine.connect() as conn:  # reported, not migrated
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0001"


def test_the_app_level_token_is_checked_when_set(example_db, slack):
    good = checks(doctor(example_db, slack, "--json", SLACK_APP_TOKEN="xapp-1-A0OTP-1-abc"))
    assert good["app-token"]["status"] == "ok"
    slack.app_tokens = {"xapp-1-A0OTP-1-other"}
    bad = checks(doctor(example_db, slack, "--json", SLACK_APP_TOKEN="xapp-1-A0OTP-1-abc"))
    assert bad["app-token"]["status"] == "fail" and "connections:write" in bad["app-token"]["fix"]
    slack.take_rejections()


def test_the_request_url_answers_a_signed_verification(module_db, api):
    server = Server(module_db, api)
    try:
        good = checks(doctor(module_db, api, "--json", "--url", server.url, SLACK_SIGNING_SECRET=SECRET))
        assert good["request-url"]["status"] == "ok", good["request-url"]
        wrong = checks(doctor(module_db, api, "--json", "--url", server.url, SLACK_SIGNING_SECRET="0" * 32))
        assert wrong["request-url"]["status"] == "fail" and "SLACK_SIGNING_SECRET" in wrong["request-url"]["fix"]
        unsigned = checks(doctor(module_db, api, "--json", "--url", server.url + "/slack/events"))
        assert (
            unsigned["request-url"]["status"] == "ok" and "signature not checked" in unsigned["request-url"]["detail"]
        )
    finally:
        assert "Traceback" not in server.stop()
    down = checks(doctor(module_db, api, "--json", "--url", server.url))
    assert down["request-url"]["status"] == "fail" and "did not answer" in down["request-url"]["detail"]
