"""A small stand-in for Slack's Web API on loopback, for the console.

It answers the methods the bot uses the way Slack does and reports every call, so the
console can show each post, update, ephemeral reply and Home tab the bot produces. It keeps
the messages posted in this session: a post to a person lands in the DM with them, a reply
keeps its thread, an update keeps the reply in its thread, history and a thread's replies
are read back (the outbox looks a post up there before it retries), and a message has a
permalink.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

Listener = Callable[[str, dict[str, Any], dict[str, Any]], None]  # method, arguments, answer


def dm(channel: str) -> str:
    """A post to a person (a user id) lands in the DM with them, as in Slack."""
    return "D" + channel[1:] if channel[:1] in ("U", "W") else channel


class SlackStandIn:
    def __init__(self, on_call: Listener, users: dict[str, dict[str, Any]] | None = None) -> None:
        self.on_call = on_call
        self.users = users or {}
        self._ts = itertools.count(1)
        self._views = itertools.count(1)
        self._files = itertools.count(1)
        self.files: dict[str, tuple[str, bytes]] = {}  # file id -> (file name, bytes uploaded)
        self.messages: dict[str, dict[str, dict[str, Any]]] = {}  # channel -> ts -> the message, in order
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="slack-standin")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def response_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/response/{next(self._ts)}"

    def __enter__(self) -> SlackStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        match method:
            case "auth.test":
                return {"ok": True, "user_id": "UOTPBOT", "bot_id": "BOTP", "team_id": "T0LOCAL", "user": "otp"}
            case "chat.postMessage" | "chat.update":
                return self._message(method, args, ts)
            case "conversations.history" | "conversations.replies":
                return self._history(method, args)
            case "chat.getPermalink":
                channel, at = dm(str(args.get("channel") or "")), str(args.get("message_ts") or "")
                found = self.find(channel, at)
                if found is None:
                    return {"ok": False, "error": "message_not_found"}
                link = f"https://local.slack.com/archives/{channel}/p{at.replace('.', '')}"
                if found.get("thread_ts") and found["thread_ts"] != at:
                    link += f"?thread_ts={found['thread_ts']}&cid={channel}"
                return {"ok": True, "channel": channel, "permalink": link}
            case "chat.postEphemeral":
                return {"ok": True, "message_ts": ts}
            case "views.open" | "views.publish" | "views.update":
                return {
                    "ok": True,
                    "view": {"id": args.get("view_id") or f"V{next(self._views):06d}", **args.get("view", {})},
                }
            case "users.info":
                user = self.users.get(args.get("user", ""))
                return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
            case "conversations.open":
                return {"ok": True, "channel": {"id": dm(str(args.get("users") or "U"))}}
            case "files.getUploadURLExternal":
                file_id = f"F{next(self._files):06d}"
                self.files[file_id] = (str(args.get("filename") or "file"), b"")
                port = self.server.server_address[1]
                return {"ok": True, "upload_url": f"http://127.0.0.1:{port}/upload/{file_id}", "file_id": file_id}
            case "files.completeUploadExternal":
                files = args.get("files") or []
                if isinstance(files, str):
                    files = json.loads(files)
                return {
                    "ok": True,
                    "files": [{"id": f.get("id"), "title": f.get("title"), "permalink": ""} for f in files],
                }
        return {"ok": True}

    def find(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self.lock:
            return self.messages.get(channel, {}).get(ts)

    def keep(self, channel: str, message: dict[str, Any]) -> None:
        """A message posted before this session, as the store remembers it, so an update keeps its thread."""
        with self.lock:
            self.messages.setdefault(channel, {})[message["ts"]] = {"type": "message", "user": "UOTPBOT", **message}

    def _message(self, method: str, args: dict[str, Any], ts: str) -> dict[str, Any]:
        channel = dm(str(args.get("channel") or ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not (args.get("text") or args.get("blocks")):
            return {"ok": False, "error": "no_text"}
        with self.lock:
            kept = self.messages.setdefault(channel, {})
            if method == "chat.update":
                ts = str(args.get("ts") or "")
                # A message posted before this session (the store outlives the stand-in) is
                # updated as Slack would update it: it was there, only not seen here.
                message = kept.setdefault(ts, {"ts": ts, "type": "message", "user": "UOTPBOT"})
                message["text"] = args.get("text") or ""
                if "blocks" in args:
                    message["blocks"] = args.get("blocks") or []
            else:
                message = {"ts": ts, "type": "message", "user": "UOTPBOT", "text": args.get("text") or ""}
                message["blocks"] = args.get("blocks") or []
                if args.get("thread_ts"):
                    message["thread_ts"] = str(args["thread_ts"])
                if args.get("metadata"):
                    message["metadata"] = args["metadata"]
                kept[ts] = message
            answer = dict(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": answer}

    def _history(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        channel, oldest = dm(str(args.get("channel") or "")), float(args.get("oldest") or 0)
        with self.lock:
            kept = list(self.messages.get(channel, {}).values())
        if method == "conversations.replies":
            parent = str(args.get("ts") or "")
            found = [m for m in kept if m["ts"] == parent or m.get("thread_ts") == parent]
        else:  # the channel's own messages, newest first; replies stay in their threads
            found = [m for m in reversed(kept) if not m.get("thread_ts") or m["thread_ts"] == m["ts"]]
        return {"ok": True, "messages": [m for m in found if float(m["ts"]) >= oldest], "has_more": False}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith("/upload/"):  # a file's bytes, as files_upload_v2 sends them
                    file_id = self.path.removeprefix("/upload/")
                    name, _ = standin.files.get(file_id, ("file", b""))
                    standin.files[file_id] = (name, data)
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                raw = data.decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    args = json.loads(raw or "{}")
                else:
                    args = dict(parse_qsl(raw))
                    for key in ("blocks", "view", "metadata"):
                        if isinstance(args.get(key), str):
                            args[key] = json.loads(args[key])
                if self.path.startswith("/response/"):
                    method, body = "response_url", {"ok": True}
                else:
                    method = self.path.removeprefix("/api/")
                    body = standin.answer(method, args)
                standin.on_call(method, args, body)
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler
