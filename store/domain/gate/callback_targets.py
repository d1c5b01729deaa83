"""Which callback URLs approved text may be sent to: public addresses, unless an operator allows more.

Without this rule a draft could name the bot's own machine or the private network as its
destination (a cloud metadata endpoint, an admin port, a database), and a person approving
the text would send a request there. The rule is applied twice:

- **At submission** (`check_url`): the URL's form, and a host that is a literal address
  (in any form the resolver accepts: `127.1`, `2130706433`, `[::1]`) or the name
  `localhost`. Names are not looked up then: DNS may be down, and what a name resolves to
  may change before the draft is approved, so a name is judged at delivery.
- **At delivery** (`parse_url`, then `resolve`): every address the host resolves to (a
  literal address or `localhost` included) must be allowed, or nothing is sent. The
  caller connects to exactly those checked addresses and never resolves the name again,
  so a name cannot answer a public address to the check and a private one to the
  connection. Redirects are not followed (bot/runtime/delivery.py), so a
  public target cannot hand the request on to a private one.

An operator allows non-public targets with OTP_CALLBACK_ALLOW: host names (matched
exactly, whatever they resolve to) and addresses or networks in CIDR form.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from urllib.parse import urlsplit

from otp_bot.store.domain.errors import Invalid

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
Resolver = Callable[..., list]  # socket.getaddrinfo's shape

SETTING = "OTP_CALLBACK_ALLOW"
_LABEL = r"(?!-)[a-z0-9_-]{1,63}(?<!-)"
HOST_NAME = re.compile(rf"{_LABEL}(\.{_LABEL})*")
SHARED = ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598): neither private nor global
NAT64 = ip_network("64:ff9b::/96")  # an IPv4 address inside IPv6 (RFC 6052)
LOOPBACK_NAMES = ("localhost",)  # and every name under .localhost (RFC 6761): always this machine


class TargetRefused(Invalid):
    """A callback target that is not a public address, and that no operator allowed."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"callback target {what}; an operator can allow it with {SETTING}",
            hint="give a callback URL on a public address",
        )


@dataclass(frozen=True)
class Allowlist:
    """Targets an operator allows although they are not public: host names and networks."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> Allowlist:
        """`127.0.0.1, 10.20.0.0/16, hooks.internal`; raises ValueError naming a malformed entry."""
        hosts, networks = set(), []
        for raw in (text or "").split(","):
            entry = raw.strip()
            if not entry:
                continue
            if "://" in entry or "@" in entry:
                raise ValueError(f"`{entry}` is a URL; give only its host name or address (or a network)")
            try:
                networks.append(ip_network(entry.removeprefix("[").removesuffix("]")))  # strict: no host bits
                continue
            except ValueError as exc:
                if "/" in entry or ":" in entry or re.fullmatch(r"[\d.]+", entry):
                    raise ValueError(f"`{entry}` is not an IP address or network: {exc}") from None
            name = entry.lower().rstrip(".")
            if len(name) > 253 or not HOST_NAME.fullmatch(name):
                raise ValueError(
                    f"`{entry}` is neither a host name nor an IP address or network "
                    "(like hooks.internal, 127.0.0.1 or 10.20.0.0/16)"
                )
            hosts.add(name)
        return cls(frozenset(hosts), tuple(networks))

    def covers(self, host: str, address: Address) -> bool:
        if _name(host) in self.hosts:
            return True
        inner = embedded_ipv4(address) if isinstance(address, IPv6Address) else None
        return any(a in n for n in self.networks for a in (address, inner) if a is not None)

    def __str__(self) -> str:
        return ", ".join(sorted(self.hosts) + [str(n) for n in self.networks]) or "nothing"


NOTHING = Allowlist()


def embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4, Teredo): where it really goes."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def refusal(address: Address) -> str | None:
    """Why `address` is not a public address a callback may reach; None when it is one."""
    if isinstance(address, IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None and (why := refusal(inner)):
            return f"{why} ({inner})"
        if inner is not None and (address.ipv4_mapped is not None or address in NAT64):
            return None  # only a wrapper around a public IPv4 address
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, IPv6Address) and address.is_site_local:
        return "a site-local address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if address in SHARED:
        return "a shared (carrier-grade NAT) address"
    if not address.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True)
class Target:
    """A callback URL taken apart: what to connect to, and what to ask for."""

    scheme: str
    host: str  # lower case, without brackets or a trailing dot
    port: int
    path: str  # path and query, as sent in the request line

    @property
    def tls(self) -> bool:
        return self.scheme == "https"


def check_url(url: str, allow: Allowlist = NOTHING) -> Target:
    """The URL's form, and its host when that is a literal address or `localhost`; no DNS.
    Raises Invalid (TargetRefused for a non-public target no operator allowed)."""
    target = parse_url(url)
    host = target.host
    address = literal_address(host)
    if address is None and (host in LOOPBACK_NAMES or host.endswith(".localhost")):
        address = IPv4Address("127.0.0.1")
    if address is not None and not allow.covers(host, address) and (why := refusal(address)):
        raise TargetRefused(_what(host, address, why, "is"))
    return target


def parse_url(url: str) -> Target:
    """A callback URL taken apart, its form checked (scheme, no credentials, a host, a port)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Invalid(f"`{_shown(url)}` is not a URL I can call: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Invalid(f"a callback URL must start with https:// or http://, not `{scheme}:`")
    if parts.username is not None or parts.password is not None:
        raise Invalid(
            "a callback URL cannot carry a user name or password",
            hint="the receiver checks X-OTP-Signature (signed with OTP_CALLBACK_SECRET) instead",
        )
    host = _name(parts.hostname or "")
    if not host:
        raise Invalid(f"`{_shown(url)}` names no host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not path.isascii() or not path.isprintable() or " " in path:
        raise Invalid(
            "a callback URL's path and query are plain ASCII without spaces or control characters",
            hint="percent-encode the rest (é is %C3%A9, a space %20)",
        )
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def _shown(url: str) -> str:
    # A receiver may put a token in the query: errors (which reach logs) show the URL without it.
    return url.split("?", 1)[0].split("#", 1)[0][:80]


def literal_address(host: str) -> Address | None:
    """The address a host stands for without any look-up: `::1`, `127.0.0.1`, and the
    old forms the system resolver also reads as addresses (`127.1`, `0x7f.0.0.1`, `2130706433`)."""
    try:
        return ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None  # a name: judged at delivery
    return ip_address(found[0][4][0]) if found else None


def resolve(
    target: Target, allow: Allowlist = NOTHING, *, resolver: Resolver = socket.getaddrinfo
) -> list[tuple[int, tuple]]:
    """Every address the target's host resolves to, as (family, socket address), all checked.
    Raises TargetRefused if any one is not allowed (a name that answers a private address
    among public ones is refused whole), OSError when the name cannot be resolved."""
    found = resolver(target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    checked = []
    for family, _type, _proto, _canonname, sockaddr in found:
        address = ip_address(str(sockaddr[0]).split("%", 1)[0])
        if not allow.covers(target.host, address) and (why := refusal(address)):
            raise TargetRefused(_what(target.host, address, why, "resolves to"))
        checked.append((family, sockaddr))
    if not checked:
        raise socket.gaierror(f"no address for {target.host}")
    return checked


def _name(host: str) -> str:
    return host.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")


def _what(host: str, address: Address, why: str, verb: str) -> str:
    """`10.0.0.5 is a private address`, or `hooks.example resolves to 10.0.0.5, a private address`."""
    try:
        same = ip_address(host.split("%", 1)[0]) == address
    except ValueError:
        same = False
    return f"{host} is {why}" if same else f"{host} {verb} {address}, {why}"
