"""What the local Slack stand-in answers for each Web API method, as Slack would.

A mixin of `tests.support.slack.api.SlackAPI`: the server side (recording, validation
helpers) lives there, HTTP in `wire`, failure injection in `faults`; the methods' answers live here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TEAM_ID = "T0TEAM"
TEAM_DOMAIN = "otp-test"
APP_ID = "A0OTP"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"


@dataclass
class UploadedFile:
    """A file announced by files.getUploadURLExternal; `content` once its bytes arrived."""

    id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str | None = None
    channels: list[str] = field(default_factory=list)
    initial_comment: str | None = None
    thread_ts: str | None = None
    completed: bool = False


class Refused(Exception):
    """Raised by a method handler to answer `ok: false` the way Slack would."""

    def __init__(self, error: str, *, status: int = 200, expected: bool = False, **extra: Any) -> None:
        super().__init__(error)
        self.error, self.status, self.extra = error, status, extra
        # Expected: caused by how the test set the workspace up (a scope not granted, a channel
        # the bot is not in), so not a request Slack would refuse as malformed.
        self.expected = expected


class WebMethods:
    """Each method runs with the server's lock held and returns Slack's JSON answer."""

    def auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "OTP Test",
            "user": "otp",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            raise Refused("channel_not_found")
        self._check_message(args)
        if channel[0] in "UW":  # posting to a user id lands in the DM with them, and Slack says so
            channel = "D" + channel[1:]
        ts = self._next_ts()
        message = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": args.get("text") or args.get("markdown_text") or "",
            "ts": ts,
        }
        for key in ("blocks", "attachments", "metadata", "thread_ts"):
            if args.get(key):
                message[key] = args[key]
        if args.get("thread_ts") and _flag(args.get("reply_broadcast")):
            message["subtype"] = "thread_broadcast"
        self.messages[channel].append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": dict(message)}

    def chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel"):
            raise Refused("channel_not_found")
        if not args.get("user"):
            raise Refused("user_not_in_channel")
        self._check_message(args)
        return {"ok": True, "message_ts": self._next_ts()}

    def chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), args.get("ts")
        if not channel:
            raise Refused("channel_not_found")
        if not ts:
            raise Refused("message_not_found")
        self._check_message(args)
        message = self._find_message(channel, ts)
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in args:
                message[key] = args[key]
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {"ok": True, "channel": channel, "ts": ts, "text": message.get("text", ""), "message": dict(message)}

    def chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel") or "", args.get("ts") or ""
        message = self._find_message(channel, ts)
        self.messages[channel].remove(message)
        return {"ok": True, "channel": channel, "ts": ts}

    def chat_get_permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), args.get("message_ts")
        if not channel:
            raise Refused("channel_not_found")
        if not ts:
            raise Refused("message_not_found")
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            raise Refused("channel_not_found")
        with_metadata = _flag(args.get("include_all_metadata"))
        inclusive = _flag(args.get("inclusive"))
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")
        # Thread replies are not in the channel's history unless broadcast, as in Slack.
        found = [
            m
            for m in reversed(self.messages.get(channel, []))
            if m.get("thread_ts", m["ts"]) == m["ts"] or m.get("subtype") == "thread_broadcast"
        ]
        if inclusive:
            found = [m for m in found if oldest <= float(m["ts"]) <= latest]
        else:
            found = [m for m in found if oldest < float(m["ts"]) < latest]
        start, limit = int(args.get("cursor") or 0), int(args.get("limit") or 100)
        page = found[start : start + limit]
        more = start + limit < len(found)
        out = [{k: v for k, v in m.items() if with_metadata or k != "metadata"} for m in page]
        return {
            "ok": True,
            "messages": out,
            "has_more": more,
            "pin_count": 0,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users") or "").split(",")
        if len(users) != 1 or users[0][:1] not in ("U", "W"):
            raise Refused("user_not_found")
        # The same DM channel id a chat.postMessage to the user id lands in.
        return {"ok": True, "channel": {"id": "D" + users[0][1:]}}

    def conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel") or "", args.get("ts") or ""
        parent = self._find_message(channel, ts)
        replies = [m for m in self.messages[channel] if m.get("thread_ts") == ts and m is not parent]
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")
        # Like Slack: the parent first, then replies oldest first, within oldest..latest.
        found = [m for m in [parent, *replies] if m is parent or oldest < float(m["ts"]) < latest]
        with_metadata = _flag(args.get("include_all_metadata"))
        start, limit = int(args.get("cursor") or 0), int(args.get("limit") or 100)
        page = found[start : start + limit]
        more = start + limit < len(found)
        out = [{k: v for k, v in m.items() if with_metadata or k != "metadata"} for m in page]
        return {
            "ok": True,
            "messages": out,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = args.get("trigger_id") or args.get("interactivity_pointer")
        if not trigger:
            raise Refused("invalid_arguments", response_metadata={"messages": ["[ERROR] missing trigger_id"]})
        view = self._check_view(args.get("view"), kinds=("modal",))
        if trigger in self._used_triggers:
            raise Refused("exchanged_trigger_id")
        self._used_triggers.add(trigger)
        return {"ok": True, "view": self._view_record(view)}

    views_push = views_open

    def views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id, external_id = args.get("view_id"), args.get("external_id")
        if not view_id and not external_id:
            raise Refused("invalid_arguments", response_metadata={"messages": ["[ERROR] view_id or external_id"]})
        view = self._check_view(args.get("view"), kinds=("modal", "home"))
        if not view_id:
            view_id = next((v["id"] for v in self.views.values() if v.get("external_id") == external_id), None)
            if view_id is None:
                raise Refused("not_found")
        # An id the stand-in never issued is accepted: tests often hand the app a view
        # (in a view_submission payload) that was never opened through it.
        return {"ok": True, "view": self._view_record(view, view_id)}

    def views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args.get("user_id")
        if not user_id:
            raise Refused("invalid_arguments", response_metadata={"messages": ["[ERROR] missing user_id"]})
        view = self._check_view(args.get("view"), kinds=("home",))
        existing = self.home.get(user_id)
        record = self._view_record(view, existing["id"] if existing else None)
        self.home[user_id] = record
        return {"ok": True, "view": record}

    def users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args.get("user") or ""
        if user_id not in self.users:
            raise Refused("user_not_found")
        return {"ok": True, "user": self._user(user_id)}

    def users_lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        email_ = (args.get("email") or "").lower()
        for user_id, conf in self.users.items():
            if str(conf.get("email", "")).lower() == email_:
                return {"ok": True, "user": self._user(user_id)}
        raise Refused("users_not_found")

    def usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = args.get("usergroup") or ""
        if group not in self.usergroups:
            raise Refused("no_such_subteam")
        return {"ok": True, "users": list(self.usergroups[group])}

    def files_get_upload_url_external(self, args: dict[str, Any]) -> dict[str, Any]:
        filename, length = args.get("filename"), args.get("length")
        if not filename or length in (None, ""):
            raise Refused("invalid_arguments")
        file_id = self._next_id("F")
        self.files[file_id] = UploadedFile(file_id, filename, int(length))
        return {"ok": True, "upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}

    def files_complete_upload_external(self, args: dict[str, Any]) -> dict[str, Any]:
        wanted = args.get("files")
        if not isinstance(wanted, list) or not wanted:
            raise Refused("invalid_arguments")
        channels = [c for c in [args.get("channel_id"), *str(args.get("channels") or "").split(",")] if c]
        out = []
        for item in wanted:
            f = self.files.get(item.get("id", ""))
            if f is None or f.content is None:
                raise Refused("file_not_found")
            f.title, f.completed = item.get("title") or f.filename, True
            f.channels, f.initial_comment, f.thread_ts = channels, args.get("initial_comment"), args.get("thread_ts")
            out.append(
                {
                    "id": f.id,
                    "name": f.filename,
                    "title": f.title,
                    "size": len(f.content),
                    "user": BOT_USER_ID,
                    "created": 1_700_000_000,
                    "channels": channels,
                    "url_private": f"https://files.slack.com/files-pri/{TEAM_ID}-{f.id}/{f.filename}",
                    "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{BOT_USER_ID}/{f.id}/{f.filename}",
                }
            )
        return {"ok": True, "files": out}


METHODS = {
    "auth.test": WebMethods.auth_test,
    "chat.postMessage": WebMethods.chat_post_message,
    "chat.postEphemeral": WebMethods.chat_post_ephemeral,
    "chat.update": WebMethods.chat_update,
    "chat.delete": WebMethods.chat_delete,
    "chat.getPermalink": WebMethods.chat_get_permalink,
    "conversations.history": WebMethods.conversations_history,
    "conversations.open": WebMethods.conversations_open,
    "conversations.replies": WebMethods.conversations_replies,
    "views.open": WebMethods.views_open,
    "views.push": WebMethods.views_push,
    "views.update": WebMethods.views_update,
    "views.publish": WebMethods.views_publish,
    "users.info": WebMethods.users_info,
    "users.lookupByEmail": WebMethods.users_lookup_by_email,
    "usergroups.users.list": WebMethods.usergroups_users_list,
    "files.getUploadURLExternal": WebMethods.files_get_upload_url_external,
    "files.completeUploadExternal": WebMethods.files_complete_upload_external,
}


def _flag(value: Any) -> bool:
    # slack-sdk sends True/False in form bodies as "1"/"0"; JSON bodies keep booleans.
    return value in (True, 1, "1", "true", "True")
