"""The guard against server-side request forgery: which links may be fetched, and where to.

A link pasted into the bot makes the *server* open a connection. Without a guard, anyone in
the channel could make it read the cloud metadata service (169.254.169.254), an admin page on
localhost or a machine of the private network. So:

- only http and https, no user name or password in the link, no odd numeric host spellings
  (``http://2130706433/``, ``http://0x7f.1/``) that different parsers read differently;
- the host name is resolved once, every address it resolves to must be globally routable, and
  the connection is made to one of exactly those addresses (``GuardedBackend``), so a DNS
  answer that changes between the check and the connection cannot slip through;
- every redirect hop goes through the same checks (the fetcher follows redirects itself).

Self-hosters on an intranet can allow private addresses (``BRIEFBOT_ALLOW_PRIVATE_URLS``).
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import httpcore

from index.errors import InputError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_CANONICAL_QUAD = re.compile(r"^(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}$")

# Ranges refused besides what the ipaddress flags already cover (Python versions differ).
_EXTRA_BLOCKED = tuple(
    (ipaddress.ip_network(net), name)
    for net, name in (
        ("0.0.0.0/8", "this-network address"),
        ("100.64.0.0/10", "carrier-grade NAT address"),
        ("192.0.0.0/24", "IETF protocol address"),
        ("198.18.0.0/15", "benchmarking address"),
        ("240.0.0.0/4", "reserved address"),
        ("255.255.255.255/32", "broadcast address"),
        ("fc00::/7", "unique-local address"),
        ("fec0::/10", "site-local address"),
        ("64:ff9b:1::/48", "local-use NAT64 address"),
        ("2001::/23", "IETF protocol address"),
        ("2001:db8::/32", "documentation address"),
        ("100::/64", "discard-only address"),
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")


class BlockedAddressError(InputError):
    """The link points somewhere the server must not connect to."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for a host, in its order, without repeats."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise InputError(f"cannot resolve host '{host}'") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def blocked_reason(ip: IPAddress) -> str | None:
    """Why an address is not globally routable, or None when it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            reason = blocked_reason(embedded)
            if reason:
                return f"{reason}, inside an IPv6 address"
    for network, name in _EXTRA_BLOCKED:
        if ip.version == network.version and ip in network:
            return name
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
    )
    for flagged, name in checks:
        if flagged:
            return f"{name} address"
    if not ip.is_global:
        return "not a globally routable address"
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries: mapped, compatible, translated, 6to4, NAT64."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _NAT64 or ip in _IPV4_TRANSLATED:
        return low32
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:
        return low32
    return None


@dataclass(frozen=True)
class UrlGuard:
    """The policy for outgoing connections; one instance is shared by every fetch."""

    allow_private: bool = False
    resolver: Resolver = field(default=system_resolver)

    def check_url(self, url: str) -> str:
        """The link, checked for scheme, credentials and host spelling; literal IPs checked too.

        Host names are resolved and checked at connection time (`resolve`), not here, so the
        address checked is the address connected to.
        """
        import httpx

        try:
            parsed = httpx.URL(url.strip())
        except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
            raise InputError(f"{url}: not a valid link ({exc})") from exc
        if parsed.scheme not in ("http", "https"):
            raise BlockedAddressError(
                f"{url}: only http and https links can be added (not '{parsed.scheme or 'none'}')"
            )
        if parsed.userinfo:
            raise BlockedAddressError(f"{url}: links with a user name or password are refused")
        if parsed.port is not None and not 0 < parsed.port < 65536:
            raise BlockedAddressError(f"{url}: invalid port {parsed.port}")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self.check_host(parsed.host, port, url)
        return str(parsed)

    def check_host(self, host: str, port: int, url: str) -> None:
        """Refuse empty hosts, odd spellings, and literal addresses that are not allowed."""
        name = host.lower()
        if name.endswith("."):
            name = name[:-1]
        if not name:
            raise InputError(f"{url}: the link has no host")
        literal = _ip_literal(name)
        if literal is not None:
            reason = self.refusal(literal, port)
            if reason:
                raise BlockedAddressError(f"{url}: blocked address {literal} ({reason})")
            return
        if not _NAME.match(name):
            raise BlockedAddressError(f"{url}: host '{host}' is not a valid host name")
        labels = name.split(".")
        if all(_NUMERIC_LABEL.match(label) for label in labels):
            raise BlockedAddressError(
                f"{url}: host '{host}' is a numeric address in a non-standard form; "
                "write it as a.b.c.d"
            )

    def refusal(self, ip: IPAddress, port: int) -> str | None:
        """Why connecting to this address and port is not allowed; None when it is."""
        return None if self.allow_private else blocked_reason(ip)

    def resolve(self, host: str, port: int) -> list[str]:
        """Addresses to connect to for a host, each one checked; raises when any is blocked.

        Every address must pass, not just the first: a resolver may hand out another one of the
        set on the next lookup, and the connection must use one of those checked here.
        """
        name = host.lower().rstrip(".")
        self.check_host(host, port, f"{host}:{port}")
        literal = _ip_literal(name)
        if literal is not None:
            return [str(literal)]
        addresses = self.resolver(name, port)
        if not addresses:
            raise InputError(f"cannot resolve host '{host}'")
        checked = []
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
            reason = self.refusal(ip, port)
            if reason:
                raise BlockedAddressError(f"blocked address: '{host}' resolves to {ip} ({reason})")
            checked.append(str(ip))
        return checked


def _ip_literal(host: str) -> IPAddress | None:
    """The address a host names literally (dotted quad or IPv6), else None."""
    candidate = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if ":" in candidate:
        if "%" in candidate:  # zone ids (fe80::1%eth0) name a local interface
            raise BlockedAddressError(f"host '{host}' carries an interface zone id")
        try:
            return ipaddress.IPv6Address(candidate)
        except ValueError as exc:
            raise BlockedAddressError(f"host '{host}' is not a valid IPv6 address") from exc
    if _CANONICAL_QUAD.match(candidate):
        try:
            return ipaddress.IPv4Address(candidate)
        except ValueError as exc:
            raise BlockedAddressError(f"host '{host}' is not a valid IPv4 address") from exc
    return None


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's network layer with one change: resolve once, check, connect to that address.

    TLS still starts with the URL's host name (httpcore passes it as SNI and checks the
    certificate against it), so HTTPS verification is unchanged.
    """

    def __init__(self, guard: UrlGuard) -> None:
        self._guard = guard
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._resolve(host, port, timeout)
        last: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last

    def _resolve(self, host: str, port: int, timeout: float | None) -> list[str]:
        """The guard's resolution, abandoned after the connect timeout.

        getaddrinfo has no timeout of its own; a slow or hostile DNS server must not hold the
        caller longer than a slow web server could. The lookup thread finishes on its own.
        """
        outcome: list[list[str] | BaseException] = []

        def work() -> None:
            try:
                outcome.append(self._guard.resolve(host, port))
            except BaseException as exc:  # handed to the caller's thread below
                outcome.append(exc)

        worker = threading.Thread(target=work, name=f"resolve {host}", daemon=True)
        worker.start()
        worker.join(timeout)
        if not outcome:
            raise httpcore.ConnectTimeout(f"resolving '{host}' took longer than {timeout} s")
        result = outcome[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise BlockedAddressError("unix sockets are never fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
