"""The workspace as an installed app sees it: the scopes its token was granted, and the
channels it is in.

- `api.scopes`: what the token was granted; every Web API answer carries them in the
  `x-oauth-scopes` header, as Slack's do, and a method whose scope is missing answers
  `missing_scope` with `needed` and `provided`. By default the scopes manifest.yml asks for.
- `api.member_of`: None (the default) when the bot is in every channel; a set of channel ids
  when it is only in those, as after an install where it must be invited: posting or reading
  history elsewhere answers `not_in_channel` (a private one: `channel_not_found`, since the
  bot cannot see it), and `conversations.info` says `is_member: false`.
- `api.channels`: what `conversations.info` tells about a channel (`name`, `is_archived`);
  any channel id is taken to exist.

A mixin of `tests.support.slack.api.SlackAPI`; its methods run with the server's lock held.
"""

from __future__ import annotations

from typing import Any

import yaml

from tests.support.paths import REPO
from tests.support.slack.web_methods import BOT_USER_ID, Refused

MANIFEST_SCOPES = frozenset(yaml.safe_load((REPO / "manifest.yml").read_text())["oauth_config"]["scopes"]["bot"])

# The bot scope each method needs (docs.slack.dev/reference/methods); ":x" is read per kind of
# conversation: `channels:x` for a public channel, `groups:x` private, `im:x` a DM.
NEEDS = {
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "conversations.info": ":read",
    "conversations.history": ":history",
    "conversations.replies": ":history",
    "conversations.open": "im:write",
    "users.info": "users:read",
    "users.lookupByEmail": "users:read.email",
    "usergroups.users.list": "usergroups:read",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}
KINDS = {"C": "channels", "G": "groups", "D": "im"}
# Methods that act in a channel, and so need the bot in it.
IN_CHANNEL = frozenset({"chat.postMessage", "conversations.history", "conversations.replies"})


def _channel_arg(method: str, args: dict[str, Any]) -> str:
    channel = str(args.get("channel") or "")
    if method == "chat.postMessage" and channel[:1] in ("U", "W"):
        return "D" + channel[1:]  # a post to a user id lands in the DM with them
    return channel


class Workspace:
    scopes: set[str]
    member_of: set[str] | None
    channels: dict[str, dict[str, Any]]

    def _check_scope(self, method: str, args: dict[str, Any]) -> None:
        needed = NEEDS.get(method)
        if needed is None:
            return
        if needed.startswith(":"):
            kind = KINDS.get(_channel_arg(method, args)[:1])
            if kind is None:
                return  # the method refuses the channel itself
            needed = kind + needed
        if needed not in self.scopes:
            raise Refused("missing_scope", expected=True, needed=needed, provided=",".join(sorted(self.scopes)))

    def _is_member(self, channel: str) -> bool:
        return self.member_of is None or channel[:1] not in ("C", "G") or channel in self.member_of

    def _check_member(self, method: str, args: dict[str, Any]) -> None:
        if method not in IN_CHANNEL:
            return
        channel = _channel_arg(method, args)
        if channel and not self._is_member(channel):
            raise Refused("channel_not_found" if channel[:1] == "G" else "not_in_channel", expected=True)

    def conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        kind = channel[:1]
        if kind not in KINDS or len(channel) < 2:
            raise Refused("channel_not_found")
        member = self._is_member(channel)
        if kind == "G" and not member:
            raise Refused("channel_not_found", expected=True)  # a private channel is invisible from outside
        conf = self.channels.get(channel, {})
        info: dict[str, Any] = {
            "id": channel,
            "created": 1_700_000_000,
            "is_channel": kind == "C",
            "is_group": kind == "G",
            "is_im": kind == "D",
            "is_private": kind != "C",
            "is_archived": bool(conf.get("is_archived", False)),
            "is_general": False,
        }
        if kind == "D":
            info["user"] = conf.get("user", "U" + channel[1:])
        else:
            info |= {"name": conf.get("name", channel.lower()), "creator": BOT_USER_ID, "is_member": member}
        return {"ok": True, "channel": info}

    def apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "wss://wss-primary.slack.com/link/?ticket=stand-in"}
