"""Callback targets: approved text goes to public addresses only, unless an operator allows more.

The rule itself over a table of addresses; then `otp serve` (no allow-list) refusing
non-public destinations at submission over the API and the CLI, refusing at delivery a
name that resolves to loopback (the receiver gets nothing), HTTPS to a checked address
with the certificate checked for the URL's name, and a malformed OTP_CALLBACK_ALLOW
stopping `otp serve` at start."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest

from otp_bot.bot.runtime.delivery import post_callback
from otp_bot.store.domain import outbox
from otp_bot.store.domain.actors import actor_for_holder
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.gate import drafts
from otp_bot.store.domain.gate.callback_targets import NOTHING, Allowlist, TargetRefused, check_url, refusal, resolve
from otp_bot.store.models import Draft

from .agent_support import as_agent, decide, problem, tokens, wait_until  # noqa: F401 - fixtures
from .serve import OTP, Server, free_port

SECRET = "callback-secret-for-tests"
# No OTP_CALLBACK_ALLOW: the defaults, as an operator who set nothing gets them.
STRICT = {
    "OTP_POLL_SECONDS": "0.1",
    "OTP_SWEEP_SECONDS": "3600",
    "OTP_LEASE_SECONDS": "5",
    "SLACK_TIMEOUT_SECONDS": "3",
    "OTP_CALLBACK_TIMEOUT_SECONDS": "3",
    "OTP_RETRY_BACKOFF": "[0.2]",
    "OTP_CALLBACK_SECRET": SECRET,
    "OTP_CALLBACK_ALLOW": "",
}


# ------------------------------------------------------------------ the rule


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.5.6.7", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.5", "private"),
        ("172.16.3.4", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("100.127.255.254", "shared (carrier-grade NAT)"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("0.1.2.3", "private"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("fec0::1", "site-local"),
        ("::ffff:127.0.0.1", "loopback address (127.0.0.1)"),
        ("::ffff:10.0.0.1", "private address (10.0.0.1)"),
        ("64:ff9b::a00:1", "private address (10.0.0.1)"),
        ("2002:7f00:1::1", "loopback address (127.0.0.1)"),
        ("192.0.2.1", "private"),
        ("2001:db8::1", "private"),
        ("198.18.0.1", "private"),
    ],
)
def test_non_public_addresses_are_refused_with_the_reason(address, why):
    assert why in (refusal(ip_address(address)) or "public")


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "8.8.8.8",
        "2606:2800:220:1:248:1893:25c8:1946",
        "::ffff:93.184.216.34",
        "64:ff9b::5db8:d822",
        "1.1.1.1",
    ],
)
def test_public_addresses_are_allowed(address):
    assert refusal(ip_address(address)) is None


def test_the_allow_list_names_hosts_and_networks():
    allow = Allowlist.parse(" 127.0.0.1, 10.20.0.0/16,Hooks.Internal. ,[::1],")
    assert allow.covers("x", ip_address("127.0.0.1")) and allow.covers("x", ip_address("10.20.9.9"))
    assert allow.covers("x", ip_address("::ffff:127.0.0.1")) and allow.covers("x", ip_address("::1"))
    assert not allow.covers("x", ip_address("10.21.0.1")) and not allow.covers("x", ip_address("127.0.0.2"))
    assert allow.covers("hooks.internal", ip_address("192.168.7.7"))  # a name: whatever it resolves to
    assert Allowlist.parse("") == NOTHING and Allowlist.parse(None) == NOTHING


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ("10.0.0.1/16", "host bits set"),
        ("10.0.0.0/33", "not an IP address or network"),
        ("300.1.2.3", "not an IP"),
        ("*.internal", "neither a host name"),
        ("http://hooks.internal", "is a URL"),
        ("a b", "neither a host name"),
        ("-bad.example", "neither a host name"),
    ],
)
def test_a_malformed_allow_list_entry_is_named(entry, words):
    with pytest.raises(ValueError, match=words) as caught:
        Allowlist.parse(f"127.0.0.1,{entry}")
    assert entry in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://10.0.0.1/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost/",
        "http://LOCALHOST.:9/x",
        "http://api.localhost/",
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f.0.0.1/",
        "http://0/",
        "http://[::ffff:127.0.0.1]/",
        "https://[fe80::1%25eth0]/",
    ],
)
def test_literal_non_public_hosts_are_refused_without_a_look_up(url):
    with pytest.raises(TargetRefused, match="OTP_CALLBACK_ALLOW"):
        check_url(url)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://hooks.example/x", "https://"),
        ("http://user:pw@hooks.example/", "user name or password"),
        ("http:///nohost", "names no host"),
        ("http://hooks.example:99999/", "not a URL"),
        ("https://hooks.example/café", "plain ASCII"),
        ("https://hooks.example/a\x07b", "plain ASCII"),
        ("https://hooks.example/a b", "plain ASCII"),
    ],
)
def test_malformed_callback_urls_are_refused(url, words):
    with pytest.raises(Invalid, match=words):
        check_url(url)


def test_a_refusal_does_not_show_the_query_where_a_token_may_be():
    with pytest.raises(Invalid) as refused:
        check_url("http:///hook?token=s3cret")
    assert "s3cret" not in str(refused.value.message)


def test_names_and_public_addresses_pass_submission_and_the_allow_list_opens_the_rest():
    target = check_url("https://hooks.example/v1/in?x=1#frag")
    assert (target.host, target.port, target.path, target.tls) == ("hooks.example", 443, "/v1/in?x=1", True)
    check_url("http://93.184.216.34/")
    check_url("http://10.20.1.2:8080/", Allowlist.parse("10.20.0.0/16"))
    check_url("http://localhost:9/", Allowlist.parse("localhost"))


def fake_dns(*answers: str):
    """A resolver answering `answers` for any name (what a hostile or changed DNS could say)."""

    def resolver(host, port, **_kw):
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port, 0, 0) if ":" in a else (a, port),
            )
            for a in answers
        ]

    return resolver


def test_every_resolved_address_must_be_allowed():
    target = check_url("https://hooks.example/x")
    assert [s[0] for _, s in resolve(target, resolver=fake_dns("93.184.216.34", "2606:2800:220:1::1"))] == [
        "93.184.216.34",
        "2606:2800:220:1::1",
    ]
    with pytest.raises(TargetRefused, match="hooks.example resolves to 10.0.0.5, a private address"):
        resolve(target, resolver=fake_dns("93.184.216.34", "10.0.0.5"))  # one bad answer refuses the name
    with pytest.raises(TargetRefused, match="link-local"):
        resolve(target, resolver=fake_dns("169.254.169.254"))
    assert resolve(target, Allowlist.parse("hooks.example"), resolver=fake_dns("10.0.0.5"))
    assert resolve(target, Allowlist.parse("10.0.0.0/8"), resolver=fake_dns("10.0.0.5"))


def test_localhost_resolved_for_real_is_refused():
    with pytest.raises(TargetRefused, match="localhost resolves to .*loopback"):
        resolve(check_url("http://localhost:9/", Allowlist.parse("localhost")))


# ------------------------------------------------------------------ delivery: real HTTP(S)


class Receiver:
    """A callback receiver on loopback (HTTPS with `tls`): records each request's method, Host and SNI."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.server_names: list[str | None] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append({"method": self.command, "host": self.headers.get("Host")})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            tls.sni_callback = lambda _sock, name, _ctx: self.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_delivery_to_an_allowed_loopback_receiver_and_a_refused_one(receiver):
    url = f"http://127.0.0.1:{receiver.port}/hook"
    sent = post_callback(url, {"a": 1}, secret=SECRET, key="k1", timeout=3, allow=Allowlist.parse("127.0.0.1"))
    assert sent.ok and receiver.requests == [{"method": "POST", "host": f"127.0.0.1:{receiver.port}"}]
    refused = post_callback(url, {"a": 1}, secret=SECRET, key="k2", timeout=3)
    assert not refused.ok and refused.permanent and "127.0.0.1 is a loopback address" in refused.detail
    assert len(receiver.requests) == 1


def test_the_connection_goes_to_the_checked_address_with_the_name_in_host(receiver):
    # The name resolves (by the resolver given) to the receiver: the request carries the name.
    url = f"http://hooks.example:{receiver.port}/hook"
    sent = post_callback(
        url, {}, secret=SECRET, key="k", timeout=3, allow=Allowlist.parse("127.0.0.1"), resolver=fake_dns("127.0.0.1")
    )
    assert sent.ok and receiver.requests[-1]["host"] == f"hooks.example:{receiver.port}"
    rebound = post_callback(url, {}, secret=SECRET, key="k", timeout=3, resolver=fake_dns("127.0.0.1"))
    assert rebound.permanent and "hooks.example resolves to 127.0.0.1" in rebound.detail
    assert len(receiver.requests) == 1


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the name `localhost` only (not for 127.0.0.1)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_https_goes_to_the_checked_address_with_sni_and_the_certificate_checked_for_the_name(certificate):
    cert, key = certificate
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(cert, key)
    receiver = Receiver(served)
    trusting = ssl.create_default_context(cafile=str(cert))
    try:
        allow = Allowlist.parse("localhost, 127.0.0.1")
        sent = post_callback(
            f"https://localhost:{receiver.port}/hook",
            {},
            secret=SECRET,
            key="k",
            timeout=3,
            allow=allow,
            tls=trusting,
            resolver=fake_dns("127.0.0.1"),
        )
        assert sent.ok, sent.detail
        assert receiver.server_names == ["localhost"] and receiver.requests[-1]["host"] == f"localhost:{receiver.port}"
        # The same receiver by its address: the certificate does not name it, so nothing is sent.
        wrong = post_callback(
            f"https://127.0.0.1:{receiver.port}/hook", {}, secret=SECRET, key="k", timeout=3, allow=allow, tls=trusting
        )
        assert not wrong.ok and "certificate" in wrong.detail.lower() and len(receiver.requests) == 1
    finally:
        receiver.close()


# ------------------------------------------------------------------ `otp serve` with no allow-list


@pytest.fixture(scope="module")
def server(module_db, api) -> Iterator[Server]:
    srv = Server(module_db, api, env=STRICT)
    yield srv
    output = srv.stop()
    assert "Traceback" not in output, output


def draft_payload(destination: str) -> dict[str, Any]:
    return {
        "seat": "retention",
        "kind": "retention-outreach",
        "subject": "client:acme",
        "title": "Check in with Acme",
        "body": "Hi Jo, can we help?",
        "destination": destination,
    }


@pytest.mark.parametrize(
    ("destination", "words"),
    [
        (f"http://127.0.0.1:{free_port()}/hook", "callback target 127.0.0.1 is a loopback address"),
        ("http://10.0.0.1/", "callback target 10.0.0.1 is a private address"),
        ("http://[::1]/", "callback target ::1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data", "callback target 169.254.169.254 is a link-local address"),
        ("http://localhost/", "callback target localhost is 127.0.0.1, a loopback address"),
        ("http://127.1:8080/", "callback target 127.1 is 127.0.0.1, a loopback address"),
    ],
)
def test_a_non_public_destination_is_refused_at_submission_over_the_api(module_db, as_agent, destination, words):
    with module_db.session(readonly=True) as s:
        before = s.query(Draft).count()
    body = problem(as_agent("pulse").post("/drafts", json=draft_payload(destination)), 422)
    assert body["code"] == "invalid" and words in body["detail"] and "OTP_CALLBACK_ALLOW" in body["detail"]
    assert body["hint"] == "give a callback URL on a public address"
    with module_db.session(readonly=True) as s:
        assert s.query(Draft).count() == before  # nothing recorded


def test_a_public_name_is_accepted_at_submission_without_a_look_up(as_agent):
    r = as_agent("pulse").post("/drafts", json=draft_payload("https://hooks.example.invalid/in"))
    assert r.status_code == 201, r.text  # .invalid never resolves: names are judged at delivery


def test_a_name_that_resolves_to_loopback_is_refused_at_delivery(server, module_db, api, receiver):
    # Accepted where it was submitted (an allow-list that named it), refused where it is delivered:
    # the delivering process judges the name by what it resolves to now, by its own allow-list.
    with module_db.session() as s:
        draft_id = drafts.submit_draft(
            s,
            actor_for_holder(s, "pulse"),
            seat_id="retention",
            kind="retention-outreach",
            subject="client:acme",
            title="Check in",
            body="Hi Jo",
            destination=f"http://localhost:{receiver.port}/hook",
            callback_allow=Allowlist.parse("localhost"),
        ).draft.id
    message = wait_until(lambda: approval_post(api, draft_id), what="the approval post")
    decide(module_db, draft_id)
    wait_until(lambda: failed(module_db, draft_id), timeout=20, what="the delivery to fail")
    error = failed(module_db, draft_id)
    assert re.search(r"localhost resolves to \S+, a loopback address", error) and "OTP_CALLBACK_ALLOW" in error
    assert receiver.requests == []
    with module_db.session(readonly=True) as s:
        item = outbox.item_for_draft(s, draft_id)
        assert item.attempts == 1 and item.status == "failed"  # permanent: not retried
    wait_until(
        lambda: any(
            "loopback" in json.dumps(c.args.get("blocks"))
            for c in api.calls_to("chat.update")
            if c.ok and c.args["ts"] == message.response["ts"]
        ),
        what="the failure on the approval message",
    )


def approval_post(api, draft_id: int):
    for call in api.calls_to("chat.postMessage"):
        values = [
            e.get("value")
            for b in call.args.get("blocks") or []
            if b.get("type") == "actions"
            for e in b.get("elements", [])
        ]
        if call.ok and str(draft_id) in values:
            return call
    return None


def failed(db, draft_id: int) -> str | None:
    with db.session(readonly=True) as s:
        draft = s.get(Draft, draft_id)
        return draft.delivery_error if draft.delivery == "failed" else None


def test_the_cli_refuses_a_private_destination(module_db, tmp_path):
    body = tmp_path / "body.md"
    body.write_text("Hi Jo")
    env = {**os.environ, "OTP_DATABASE_URL": module_db.url, "OTP_CALLBACK_ALLOW": ""}
    done = subprocess.run(
        [
            OTP,
            "draft",
            "submit",
            "--seat",
            "retention",
            "--kind",
            "retention-outreach",
            "--subject",
            "client:acme",
            "--title",
            "Hi",
            "--body-file",
            str(body),
            "--destination",
            "http://192.168.0.10/hook",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "192.168.0.10 is a private address" in done.stderr, done.stderr
    allowed = subprocess.run(
        [
            OTP,
            "draft",
            "submit",
            "--seat",
            "retention",
            "--kind",
            "retention-outreach",
            "--subject",
            "client:acme",
            "--title",
            "Hi",
            "--body-file",
            str(body),
            "--destination",
            "http://192.168.0.10/hook",
        ],
        env={**env, "OTP_CALLBACK_ALLOW": "192.168.0.0/24"},
        capture_output=True,
        text=True,
    )
    assert allowed.returncode == 0, allowed.stderr


@pytest.mark.parametrize("value", ["10.0.0.0/33", "hooks internal", "http://hooks.internal"])
def test_a_malformed_allow_list_stops_otp_serve_at_start(module_db, api, value):
    env = {
        **os.environ,
        "OTP_DATABASE_URL": module_db.url,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
        "SLACK_API_URL": api.url,
        "OTP_CALLBACK_ALLOW": f"127.0.0.1,{value}",
    }
    done = subprocess.run(
        [OTP, "serve", "--port", str(free_port())], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "OTP_CALLBACK_ALLOW is malformed" in done.stderr and value in done.stderr
