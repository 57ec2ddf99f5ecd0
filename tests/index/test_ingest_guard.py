"""The SSRF guard with its default policy: hostile links are refused and nothing connects.

A local server stands in for every internal service; it must record zero connections. The
only server the guard lets through is a stand-in "public" site (a 127.0.0.1 port the test
guard treats as public), used to redirect to internal targets.
"""

from __future__ import annotations

import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading

import pytest

from index.errors import InputError
from index.ingest.guard import BlockedAddressError, UrlGuard, blocked_reason
from index.ingest.links import LinkReader
from index.ingest.web import FetchLimits, fetch
from tests.ingest_fixtures import NEWS_PAGE, Route, html_route, serving

FAKE_DNS = {
    "localhost": ["127.0.0.1"],
    "internal.example": ["127.0.0.1"],
    "metadata.example": ["169.254.169.254"],
    "intranet.example": ["10.1.2.3"],
    "mixed.example": ["93.184.216.34", "127.0.0.1"],
    "v6.example": ["::1"],
    "mapped.example": ["::ffff:127.0.0.1"],
    "cgnat.example": ["100.100.1.1"],
    "127.0.0.1.nip.io": ["127.0.0.1"],
    "ula.example": ["fd00::5"],
    "public.example": ["127.0.0.1"],  # the stand-in public site (allowed on its port only)
}


def hostile_urls(p: int) -> list[str]:
    """Links that must never lead to a connection; `p` is the internal server's port."""
    return [
        # loopback, literally and in every spelling
        f"http://127.0.0.1:{p}/",
        f"https://127.0.0.1:{p}/",
        f"http://127.1:{p}/",
        f"http://2130706433:{p}/",
        f"http://0x7f000001:{p}/",
        f"http://0x7f.1:{p}/",
        f"http://017700000001:{p}/",
        f"http://0177.0.0.1:{p}/",
        f"http://127.000.000.001:{p}/",
        f"http://127.0.0.1.:{p}/",
        f"http://[::1]:{p}/",
        f"http://[::ffff:127.0.0.1]:{p}/",
        f"http://[::ffff:7f00:1]:{p}/",
        f"http://[0:0:0:0:0:ffff:127.0.0.1]:{p}/",
        f"http://[::127.0.0.1]:{p}/",
        f"http://[2002:7f00:1::]:{p}/",
        f"http://[64:ff9b::7f00:1]:{p}/",
        f"http://[::ffff:0:7f00:1]:{p}/",
        f"http://0.0.0.0:{p}/",
        f"http://0:{p}/",
        f"http://[::]:{p}/",
        # userinfo tricks
        f"http://user:pass@127.0.0.1:{p}/",
        f"http://example.com@127.0.0.1:{p}/",
        f"http://example.com\\@127.0.0.1:{p}/",
        f"http://public.example:{p}@127.0.0.1:{p}/",
        # private, link-local, CGNAT, multicast, reserved, special
        "http://10.0.0.1/",
        "http://10.255.255.255:8080/",
        "http://172.16.0.1/",
        "http://172.31.255.254/",
        "http://192.168.0.1/",
        "http://192.168.1.254:8443/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://100.127.255.254/",
        "http://224.0.0.1/",
        "http://239.255.255.250:1900/",
        "http://240.0.0.1/",
        "http://255.255.255.255/",
        "http://192.0.0.8/",
        "http://198.18.0.1/",
        "http://192.0.2.10/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[fd12:3456::1]/",
        "http://[ff02::1]/",
        "http://[fec0::1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[2002:a9fe:a9fe::]/",
        "http://[fe80::1%25eth0]/",
        # other schemes
        "file:///etc/passwd",
        "ftp://example.com/file.txt",
        f"gopher://127.0.0.1:{p}/",
        "dict://127.0.0.1:11211/",
        "javascript:alert(1)",
        "data:text/html,<p>hi</p>",
        # names that resolve to internal addresses
        f"http://localhost:{p}/",
        f"http://LOCALHOST.:{p}/",
        f"http://internal.example:{p}/",
        "http://metadata.example/latest/meta-data/",
        "http://intranet.example/",
        f"http://mixed.example:{p}/",
        f"http://v6.example:{p}/",
        f"http://mapped.example:{p}/",
        "http://cgnat.example/",
        f"http://127.0.0.1.nip.io:{p}/",
        "http://ula.example/",
        # the public stand-in on the internal server's port is still internal
        f"http://public.example:{p}/",
    ]


REDIRECT_TARGETS = {
    "/to-loopback": "http://127.0.0.1:{p}/",
    "/to-metadata": "http://169.254.169.254/latest/meta-data/",
    "/to-name": "http://internal.example:{p}/",
    "/to-decimal": "http://2130706433:{p}/",
    "/to-v6": "http://[::1]:{p}/",
    "/to-mapped": "http://[::ffff:127.0.0.1]:{p}/",
    "/to-file": "file:///etc/passwd",
    "/to-private": "http://192.168.0.1/admin",
    "/to-userinfo": "http://a:b@public.example:{q}/ok",
}


class PublicPortGuard(UrlGuard):
    """The default policy, except that one local port plays the part of a public web site."""

    def __init__(self, public_port: int, resolver) -> None:
        super().__init__(allow_private=False, resolver=resolver)
        object.__setattr__(self, "public_port", public_port)

    def refusal(self, ip, port):
        if str(ip) == "127.0.0.1" and port == self.public_port:
            return None
        return super().refusal(ip, port)


class Recorder:
    def __init__(self) -> None:
        self.lookups: list[str] = []
        self.connects: list[tuple[str, int]] = []

    def resolve(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host not in FAKE_DNS:
            raise InputError(f"cannot resolve host '{host}'")
        return list(FAKE_DNS[host])


@pytest.fixture
def recorder(monkeypatch):
    rec = Recorder()
    real = socket.create_connection

    def create_connection(address, *args, **kwargs):
        rec.connects.append((str(address[0]), int(address[1])))
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return rec


LIMITS = FetchLimits(connect_timeout=2, read_timeout=2, total_timeout=10, max_bytes=100_000)


def test_hostile_links_are_refused_without_any_connection(recorder):
    with serving() as internal, serving() as public:
        internal.add("/", html_route(NEWS_PAGE))
        guard = PublicPortGuard(public.port, recorder.resolve)
        urls = hostile_urls(internal.port)
        for path, target in REDIRECT_TARGETS.items():
            location = target.format(p=internal.port, q=public.port)
            public.add(path, Route(302, b"", {"Location": location}))
            urls.append(f"http://public.example:{public.port}{path}")
        assert len(urls) >= 50
        for url in urls:
            with pytest.raises(InputError) as caught:
                fetch(url, guard, LIMITS)
            message = str(caught.value)
            assert message.startswith(url), message
            assert "\n" not in message
        assert internal.connections == 0
        assert internal.requests == []
        assert {port for _, port in recorder.connects} <= {public.port}
        assert len(public.requests) == len(REDIRECT_TARGETS)


def test_messages_say_why(recorder):
    guard = UrlGuard(resolver=recorder.resolve)
    cases = {
        "http://169.254.169.254/": "link-local",
        "http://100.64.0.1/": "carrier-grade NAT",
        "http://[::ffff:10.0.0.1]/": "private address, inside an IPv6 address",
        "http://0x7f.1/": "non-standard form",
        "http://metadata.example/": "resolves to 169.254.169.254",
        "ftp://example.com/": "only http and https",
        "http://a:b@example.com/": "user name or password",
    }
    for url, reason in cases.items():
        with pytest.raises(BlockedAddressError, match=reason):
            fetch(url, guard, LIMITS)
    assert recorder.connects == []


def test_the_connection_goes_to_the_address_that_was_checked(recorder):
    """One lookup per connection, and the socket is opened to that address, not the name."""
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])  # a rebinding resolver
    lookups = []

    def rebinding(host, port):
        lookups.append(host)
        return next(answers)

    with serving() as public:
        url = public.add("/story", html_route(NEWS_PAGE))
        guard = PublicPortGuard(public.port, rebinding)
        document = fetch(url.replace("127.0.0.1", "rebind.example"), guard, LIMITS)
    assert b"340 firefighters" in document.data
    assert lookups == ["rebind.example"]
    assert recorder.connects == [("127.0.0.1", public.port)]


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for public.example, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl command not available")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=public.example",
         "-addext", "subjectAltName=DNS:public.example"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return key, cert


def test_https_connects_to_the_checked_address_but_verifies_the_host_name(recorder, certificate):
    key, cert = certificate
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    names = []
    server_tls.sni_callback = lambda sock, name, ctx: names.append(name)
    client_tls = ssl.create_default_context(cafile=str(cert))
    with serving(tls=server_tls) as public:
        public.add("/story", html_route(NEWS_PAGE))
        guard = PublicPortGuard(public.port, recorder.resolve)
        url = f"https://public.example:{public.port}/story"
        document = fetch(url, guard, LIMITS, ssl_context=client_tls)
        assert b"340 firefighters" in document.data
        assert names == ["public.example"]
        assert recorder.connects == [("127.0.0.1", public.port)]
        # The certificate does not name 127.0.0.1: reaching it by address fails verification.
        by_address = PublicPortGuard(public.port, recorder.resolve)
        with pytest.raises(InputError, match="cannot connect"):
            fetch(f"https://127.0.0.1:{public.port}/story", by_address, LIMITS, client_tls)


def test_a_dns_lookup_that_hangs_times_out(recorder):
    release = threading.Event()

    def hanging(host, port):
        release.wait(10)
        return ["93.184.216.34"]

    limits = FetchLimits(connect_timeout=0.3, read_timeout=0.3, total_timeout=5)
    try:
        with pytest.raises(InputError, match=r"^http://slow-dns.example/: timed out"):
            fetch("http://slow-dns.example/", UrlGuard(resolver=hanging), limits)
    finally:
        release.set()
    assert recorder.connects == []


def test_private_addresses_allowed_when_configured(recorder):
    with serving() as internal:
        url = internal.add("/story", html_route(NEWS_PAGE))
        reader = LinkReader(guard=UrlGuard(allow_private=True), fetch_limits=LIMITS)
        assert "340 firefighters" in reader.read(url).text
        assert internal.connections == 1


def test_public_addresses_pass_the_check():
    for address in ("8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "2002:808:808::"):
        assert blocked_reason(ipaddress.ip_address(address)) is None
    guard = UrlGuard(resolver=lambda host, port: ["93.184.216.34"])
    assert guard.resolve("news.example", 443) == ["93.184.216.34"]
    assert guard.check_url("https://News.Example/a?b=1") == "https://news.example/a?b=1"
