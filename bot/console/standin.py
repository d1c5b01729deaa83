"""A small stand-in for Slack's Web API on loopback, for the console.

It answers the methods the bot uses the way Slack does and reports every call, so the
console can show each post, update, ephemeral reply and Home tab the bot produces.
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


class SlackStandIn:
    def __init__(self, on_call: Listener, users: dict[str, dict[str, Any]] | None = None) -> None:
        self.on_call = on_call
        self.users = users or {}
        self._ts = itertools.count(1)
        self._views = itertools.count(1)
        self._files = itertools.count(1)
        self.files: dict[str, tuple[str, bytes]] = {}  # file id -> (file name, bytes uploaded)
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
                channel = str(args.get("channel") or "")
                if channel[:1] in ("U", "W"):  # a post to a person lands in the DM with them
                    channel = "D" + channel[1:]
                return {
                    "ok": True,
                    "channel": channel,
                    "ts": args.get("ts") or ts,
                    "message": {"text": args.get("text")},
                }
            case "conversations.history" | "conversations.replies":
                return {"ok": True, "messages": [], "has_more": False}
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
                return {"ok": True, "channel": {"id": "D" + str(args.get("users", "U"))[1:]}}
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
