"""The install as Slack sees it: the tokens, the scopes granted, the channels the chart posts
in, the people the chart names. Each asks Slack through the bot's (paced) client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from otp_bot.bot.ops.doctor.check import Check, fail, ok, skip
from otp_bot.bot.slack.reach import TOKEN_REFUSED
from otp_bot.store.domain.chart.slack_refs import ChannelUse, Person

# The bot scopes manifest.yml asks for (a test keeps the two the same): an installed package
# has no manifest.yml to read.
MANIFEST_SCOPES = (
    "commands",
    "chat:write",
    "im:write",
    "channels:history",
    "groups:history",
    "im:history",
    "mpim:history",
    "channels:read",
    "groups:read",
    "users:read",
    "users:read.email",
    "usergroups:read",
    "files:write",
)
REINSTALL = (
    "add them under OAuth & Permissions → Bot Token Scopes at api.slack.com/apps (or paste manifest.yml "
    "again), then Reinstall to Workspace: the token keeps its old scopes until the app is reinstalled"
)


@dataclass(frozen=True)
class Install:
    """What auth.test said about the bot token."""

    bot_name: str  # the bot user's name, for `/invite @name`
    team: str
    scopes: frozenset[str] | None  # None: Slack did not say (no x-oauth-scopes header)


def _error(exc: SlackApiError) -> str:
    data = exc.response.data if isinstance(exc.response.data, dict) else {}
    return str(data.get("error") or f"HTTP {exc.response.status_code}")


def _unreachable(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    return str(getattr(reason, "strerror", None) or reason)[:200] or type(exc).__name__


def _header(headers: Any, name: str) -> str | None:
    for key, value in dict(headers or {}).items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) else str(value)
    return None


def bot_token(client: WebClient | None, problem: str | None, base_url: str) -> tuple[Check, Install | None]:
    """auth.test with the bot token; `problem` is why there is no client (the token is missing
    or malformed)."""
    title = "Bot token"
    if client is None:
        fix = "set SLACK_BOT_TOKEN to the Bot User OAuth Token (OAuth & Permissions at api.slack.com/apps)"
        return fail("bot-token", title, problem or "SLACK_BOT_TOKEN is not set", fix), None
    try:
        response = client.auth_test()
    except SlackApiError as exc:
        error = _error(exc)
        if error in TOKEN_REFUSED:
            fix = (
                "copy the Bot User OAuth Token (xoxb-…) into SLACK_BOT_TOKEN again; reinstall the app if it was revoked"
            )
            return fail("bot-token", title, f"Slack refused the bot token ({error})", fix), None
        return fail("bot-token", title, f"auth.test failed: {error}", "try again; see status.slack.com"), None
    except Exception as exc:
        fix = "check the network, and SLACK_API_URL if it is set"
        return fail("bot-token", title, f"Slack could not be reached at {base_url} ({_unreachable(exc)})", fix), None
    scopes = _header(response.headers, "x-oauth-scopes")
    install = Install(
        str(response.get("user") or "the bot"),
        str(response.get("team") or response.get("team_id") or "the workspace"),
        frozenset(s.strip() for s in scopes.split(",") if s.strip()) if scopes is not None else None,
    )
    return ok("bot-token", title, f"valid: @{install.bot_name} in {install.team}"), install


def app_token(client: WebClient, token: str | None) -> Check | None:
    """The app-level token (Socket Mode), when one is set: apps.connections.open accepts it."""
    if not token:
        return None
    title = "App-level token"
    try:
        client.apps_connections_open(app_token=token)
    except SlackApiError as exc:
        fix = (
            "create an app-level token with connections:write (Basic Information → App-Level Tokens) "
            "and set SLACK_APP_TOKEN"
        )
        return fail("app-token", title, f"Slack refused SLACK_APP_TOKEN ({_error(exc)})", fix)
    except Exception as exc:
        return fail("app-token", title, f"Slack could not be reached ({_unreachable(exc)})", "check the network")
    return ok("app-token", title, "valid: Socket Mode can connect")


def scopes(install: Install | None) -> Check:
    title = "Scopes"
    if install is None:
        return skip("scopes", title, "the bot token did not work")
    if install.scopes is None:
        return skip("scopes", title, "Slack did not say which scopes the token has (no x-oauth-scopes header)")
    missing = [s for s in MANIFEST_SCOPES if s not in install.scopes]
    if missing:
        return fail("scopes", title, f"missing {', '.join(missing)} (manifest.yml asks for them)", REINSTALL)
    return ok("scopes", title, f"all {len(MANIFEST_SCOPES)} that manifest.yml asks for are granted")


def channel(client: WebClient, use: ChannelUse, bot_name: str) -> Check:
    """Is the bot in a channel the chart posts in?"""
    name, title = f"channel:{use.channel}", use.channel
    what = "; ".join(use.uses)
    invite = f"type `/invite @{bot_name}` in the channel"
    try:
        info = client.conversations_info(channel=use.channel)["channel"]
    except SlackApiError as exc:
        error = _error(exc)
        if error == "channel_not_found":
            fix = f"check the id in the chart file (channel details, About tab); for a private channel, {invite}"
            return fail(name, title, f"{use.channel} not found, or private without the bot; used for {what}", fix)
        if error == "missing_scope":
            needed = exc.response.get("needed") or "channels:read, groups:read"
            return fail(name, title, f"could not check {use.channel}: the token lacks {needed}", REINSTALL)
        return fail(name, title, f"conversations.info for {use.channel} failed: {error}", "try again")
    except Exception as exc:
        return fail(name, title, f"Slack could not be reached ({_unreachable(exc)})", "check the network")
    label = f"#{info['name']} ({use.channel})" if info.get("name") else use.channel
    if info.get("is_archived"):
        fix = "unarchive it, or point the chart at another channel and `otp chart import` it"
        return Check(name, label, "fail", f"archived; used for {what}", fix)
    if not info.get("is_member", True):
        fix = f"type `/invite @{bot_name}` in #{info['name']}" if info.get("name") else invite
        return Check(name, label, "fail", f"the bot is not in it; it posts {what} there", fix)
    return Check(name, label, "ok", f"the bot is in it: {what}")


def _resolve(client: WebClient, person: Person) -> str | None:
    """None when the person is a Slack user; else what is wrong, with its fix."""
    try:
        if person.slack_user:
            user = client.users_info(user=person.slack_user)["user"]
            if user.get("deleted"):
                return f"{person.name} ({person.slack_user}) is deactivated in Slack: give their seats to someone else"
            return None
        if person.email:
            client.users_lookupByEmail(email=person.email)
            return None
    except SlackApiError as exc:
        error = _error(exc)
        if error == "missing_scope":
            return f"{person.name}: could not look up ({exc.response.get('needed') or 'a scope'} missing)"
        if person.slack_user:
            return f"{person.name}: no Slack user {person.slack_user} ({error}); fix `slack_user` in the chart file"
        return f"{person.name}: no Slack user with the email {person.email} ({error}); add their `slack_user`"
    return f"{person.name} has neither `slack_user` nor `email` in the chart: add one"


def people(client: WebClient, found: list[Person]) -> Check:
    """Each human on the chart resolves to a Slack user (by id, else by email)."""
    title = "People"
    problems: list[str] = []
    try:
        for person in found:
            problem = _resolve(client, person)
            if problem:
                problems.append(problem)
    except Exception as exc:
        return fail("people", title, f"Slack could not be reached ({_unreachable(exc)})", "check the network")
    if problems:
        fix = (
            "set each one's `slack_user` (profile → ⋮ → Copy member ID) or `email` in the chart file, "
            "then `otp chart import`"
        )
        detail = f"{len(problems)} of {len(found)} people on the chart do not resolve to a Slack user"
        return fail("people", title, detail, fix, tuple(problems))
    return ok("people", title, f"all {len(found)} people on the chart are Slack users")
