"""The stand-in's HTTP side: a threaded server on loopback, and requests read as Slack reads
them (query string, JSON, form or multipart body; JSON fields sent as strings decoded)."""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from tests.support.slack.api import SlackAPI


# Fields slack-sdk (or a hand-made form post) may send as a JSON *string*: decoded so
# that tests and checks always see Python objects.
JSON_FIELDS = frozenset({"blocks", "attachments", "view", "metadata", "files", "unfurls", "user_auth_blocks"})


class StandInServer(ThreadingHTTPServer):
    daemon_threads = True  # a handler still sleeping in a delay must not hold up close()
    api: SlackAPI

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up mid-answer is expected in failure tests.
        pass


class StandInHandler(BaseHTTPRequestHandler):
    server: StandInServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:  # slack-sdk always POSTs, but a GET with a query string is valid Slack too
        self._serve()

    def _serve(self) -> None:
        api = self.server.api
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = api._handle(split.path, headers, split.query, raw)
        if reply.delay:
            api._closing.wait(reply.delay)  # close() cuts a delay short
        if reply.drop:
            self.close_connection = True  # hang up without a word, as a dropped connection does
            return
        body = reply.body()
        out_headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
        try:
            self.send_response(reply.status)
            for name, value in out_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean; the calls are recorded instead


def parse_args(headers: dict[str, str], query: str, raw: bytes) -> dict[str, Any]:
    """Arguments as Slack reads them: query string, then a JSON, form or multipart body."""
    args: dict[str, Any] = _form(query)
    ctype = headers.get("content-type", "")
    kind = ctype.split(";")[0].strip().lower()
    if kind == "application/json":
        if raw.strip():
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("JSON body is not an object")
            args.update(body)
    elif kind == "multipart/form-data":
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode() + raw
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            args[str(name)] = payload if part.get_filename() else payload.decode("utf-8", "replace")
    elif raw:
        args.update(_form(raw.decode("utf-8")))
    for key in JSON_FIELDS & args.keys():
        value = args[key]
        if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
            with contextlib.suppress(json.JSONDecodeError):  # left as a string: the checks refuse it as Slack would
                args[key] = json.loads(value)
    return args


def _form(text: str) -> dict[str, Any]:
    parsed = parse_qs(text, keep_blank_values=True)
    return {k: v[0] if len(v) == 1 else v for k, v in parsed.items()}
