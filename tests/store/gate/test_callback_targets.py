"""Callback targets: approved text goes to public addresses only, unless an operator allows more.

The rule itself over a table of addresses; then delivery over real HTTP(S) to a receiver on
loopback: the connection goes to the checked address, HTTPS with the certificate checked for
the URL's name. `otp serve` applying the rule is in tests/end_to_end/surfaces."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from ipaddress import ip_address
from pathlib import Path

import pytest

from otp_bot.bot.runtime.delivery import post_callback
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.gate.callback_targets import NOTHING, Allowlist, TargetRefused, check_url, refusal, resolve
from tests.support.receivers import Receiver

SECRET = "callback-secret-for-tests"


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
    with pytest.raises(TargetRefused, match=r"hooks.example resolves to 10.0.0.5, a private address"):
        resolve(target, resolver=fake_dns("93.184.216.34", "10.0.0.5"))  # one bad answer refuses the name
    with pytest.raises(TargetRefused, match="link-local"):
        resolve(target, resolver=fake_dns("169.254.169.254"))
    assert resolve(target, Allowlist.parse("hooks.example"), resolver=fake_dns("10.0.0.5"))
    assert resolve(target, Allowlist.parse("10.0.0.0/8"), resolver=fake_dns("10.0.0.5"))


def test_localhost_resolved_for_real_is_refused():
    with pytest.raises(TargetRefused, match=r"localhost resolves to .*loopback"):
        resolve(check_url("http://localhost:9/", Allowlist.parse("localhost")))


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
