"""manifest.yml asks for every scope the code needs: each Web API call in bot/ is mapped here."""

from __future__ import annotations

import re

import yaml

from tests.support.paths import REPO

ROOT = REPO
# Slack's documented bot scope for each method the app calls (None: no scope needed).
SCOPES = {
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "files_upload_v2": {"files:write"},
    "conversations_open": {"im:write"},
    # Every kind of conversation a post can land in (a delivery may target a group DM too):
    # the look-up before a retry must be able to read each one's history.
    "conversations_history": {"channels:history", "groups:history", "im:history", "mpim:history"},
    "conversations_replies": {"channels:history", "groups:history", "im:history", "mpim:history"},
    "usergroups_users_list": {"usergroups:read"},
    "users_info": {"users:read"},
    "users_lookupByEmail": {"users:read.email"},
    # `otp doctor`: is the bot in each channel the chart names (public and private ones)
    "conversations_info": {"channels:read", "groups:read"},
    "apps_connections_open": set(),  # the app-level token's own scope (connections:write), not a bot scope
    "chat_getPermalink": set(),  # no scope: a message's link, for an issue raised from it
    "views_open": set(),
    "views_update": set(),
    "views_publish": set(),
    "auth_test": set(),  # no scope: any token may ask who it is
}


def test_every_web_api_call_has_its_scope_in_the_manifest():
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    granted = set(manifest["oauth_config"]["scopes"]["bot"])
    called = {
        m
        for path in (ROOT / "bot").rglob("*.py")
        for m in re.findall(r"client\.([a-z]+_[A-Za-z0-9_]+)\(", path.read_text())
    }
    assert called, "no Web API calls found: the pattern is out of date"
    unknown = called - set(SCOPES)
    assert not unknown, f"add these methods and their scopes to SCOPES: {sorted(unknown)}"
    for method in called:
        assert SCOPES[method] <= granted, f"{method} needs {SCOPES[method] - granted} in manifest.yml"


def test_the_manifest_wires_slash_command_events_and_buttons_to_one_url():
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    urls = {
        manifest["features"]["slash_commands"][0]["url"],
        manifest["settings"]["event_subscriptions"]["request_url"],
        manifest["settings"]["interactivity"]["request_url"],
    }
    assert len(urls) == 1 and urls.pop().endswith("/slack/events")
    assert "app_home_opened" in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_the_raise_as_issue_shortcut_is_declared_as_the_app_listens_for_it():
    from otp_bot.bot.slack.views.raise_issue_form import SHORTCUT

    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    (shortcut,) = manifest["features"]["shortcuts"]
    assert (shortcut["type"], shortcut["callback_id"], shortcut["name"]) == ("message", SHORTCUT, "Raise as issue")
    assert len(shortcut["description"]) <= 80  # Slack's limit
