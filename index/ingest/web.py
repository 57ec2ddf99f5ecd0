"""Fetching a link: guarded connections, own redirects, timeouts, a byte cap, a type allowlist.

httpx does the HTTP; this module decides what is acceptable. Redirects are followed here, not
by httpx, so every hop goes through the guard. The body is read raw and decompressed here with
a bounded output size, so a gzip bomb stops at the cap instead of filling memory first.
"""

from __future__ import annotations

import logging
import ssl
import time
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpcore
import httpx

from index.errors import InputError, naming
from index.ingest.guard import GuardedBackend, UrlGuard

logger = logging.getLogger(__name__)

USER_AGENT = "Briefbot/0.1 (reads news articles that a team shares for question answering)"
ACCEPT = "text/html, application/xhtml+xml, text/plain, text/markdown, application/pdf;q=0.9"
# Content types we read, and the kind of document each one is.
ALLOWED_TYPES = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "text",
    "text/markdown": "text",
    "text/x-markdown": "text",
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
}
# Types servers send when they do not know better: the content decides.
UNTYPED = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class FetchError(InputError):
    """A link could not be fetched; the message names the link and the reason."""


@dataclass(frozen=True)
class FetchLimits:
    connect_timeout: float = 10.0
    read_timeout: float = 15.0
    total_timeout: float = 60.0
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    user_agent: str = USER_AGENT


@dataclass(frozen=True)
class FetchedDocument:
    """A fetched body with what is needed to read it."""

    requested_url: str
    url: str  # after redirects
    content_type: str  # media type without parameters, lowercased ("" when none)
    charset: str | None
    data: bytes
    status: int = 200  # 304: not modified since the validators sent (data is empty)
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Wanted:
    """What a caller accepts: the Accept header, the content types read (type -> kind), and
    validators of a copy it already has (If-None-Match / If-Modified-Since; a 304 answer is
    then a FetchedDocument with status 304). Web pages by default; feeds ask for their own."""

    accept: str = ""
    types: Mapping[str, str] = field(default_factory=dict)
    conditional: Mapping[str, str] = field(default_factory=dict)


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport whose connections go through `GuardedBackend`.

    No proxies from the environment: a proxy would make the checked address meaningless.
    """

    def __init__(self, guard: UrlGuard, ssl_context: ssl.SSLContext | None = None) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(),
            max_connections=4,
            network_backend=GuardedBackend(guard),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _httpx_errors():
            response = self._pool.handle_request(core)
        assert isinstance(response.stream, Iterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Stream(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


class _Stream(httpx.SyncByteStream):
    def __init__(self, inner: Iterable[bytes]) -> None:
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        with _httpx_errors():
            yield from self._inner

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


@contextmanager
def _httpx_errors() -> Iterator[None]:
    """httpcore's errors as the httpx errors of the same name (what callers of httpx expect)."""
    try:
        yield
    except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError) as exc:
        mapped = getattr(httpx, type(exc).__name__, httpx.TransportError)
        raise mapped(str(exc) or type(exc).__name__) from exc


def fetch(
    url: str,
    guard: UrlGuard,
    limits: FetchLimits | None = None,
    ssl_context: ssl.SSLContext | None = None,
    wanted: Wanted | None = None,
) -> FetchedDocument:
    """Fetch one link within the limits; any problem is a FetchError naming the link.

    `ssl_context` defaults to httpx's (certifi's CAs, hostname checking on).
    """
    limits = limits or FetchLimits()
    wanted = wanted or Wanted(ACCEPT, ALLOWED_TYPES)
    try:
        return _fetch(url, guard, limits, ssl_context, wanted)
    except FetchError:
        raise
    except InputError as exc:  # a blocked address keeps its type, with the link in front
        raise type(exc)(naming(url, exc)) from exc
    except httpx.TimeoutException as exc:
        raise FetchError(f"{url}: timed out ({_timeout_kind(exc)})") from exc
    except httpx.ConnectError as exc:
        raise FetchError(f"{url}: cannot connect ({_short(exc)})") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: download failed ({_short(exc)})") from exc


def _fetch(
    url: str,
    guard: UrlGuard,
    limits: FetchLimits,
    ssl_context: ssl.SSLContext | None,
    wanted: Wanted,
) -> FetchedDocument:
    current = guard.check_url(url)
    deadline = time.monotonic() + limits.total_timeout
    timeout = httpx.Timeout(
        connect=limits.connect_timeout,
        read=limits.read_timeout,
        write=limits.read_timeout,
        pool=limits.connect_timeout,
    )
    headers = {
        "User-Agent": limits.user_agent,
        "Accept": wanted.accept or ACCEPT,
        "Accept-Encoding": "gzip, deflate",
        **wanted.conditional,
    }
    with httpx.Client(
        transport=GuardedTransport(guard, ssl_context),
        timeout=timeout,
        headers=headers,
        follow_redirects=False,
        trust_env=False,
    ) as client:
        for _hop in range(limits.max_redirects + 1):
            if time.monotonic() > deadline:
                raise FetchError(f"{url}: timed out (the download took too long)")
            with client.stream("GET", current) as response:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    target = str(response.url.join(response.headers["location"]))
                    try:
                        current = guard.check_url(target)
                    except InputError as exc:
                        raise type(exc)(f"{url}: redirect refused: {exc}") from exc
                    logger.info("%s redirects to %s", response.url, current)
                    continue
                return _read_response(url, response, limits, deadline, wanted)
    raise FetchError(f"{url}: more than {limits.max_redirects} redirects")


def _read_response(
    url: str, response: httpx.Response, limits: FetchLimits, deadline: float, wanted: Wanted
) -> FetchedDocument:
    etag = response.headers.get("etag")
    modified = response.headers.get("last-modified")
    if response.status_code == 304 and wanted.conditional:
        return FetchedDocument(url, str(response.url), "", None, b"", 304, etag, modified)
    if not response.is_success:
        reason = response.reason_phrase or ""
        raise FetchError(f"{url}: HTTP {response.status_code} {reason}".rstrip())
    media_type, charset = _content_type(response.headers.get("content-type", ""))
    if media_type not in wanted.types and media_type not in UNTYPED:
        kinds = "web pages, text, Markdown and PDF" if wanted.types is ALLOWED_TYPES else "feeds"
        raise FetchError(f"{url}: unsupported type '{media_type}' (only {kinds})")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise FetchError(f"{url}: too large ({int(declared):,} bytes; limit {limits.max_bytes:,})")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    data = read_capped(response.iter_raw(16384), encoding, limits.max_bytes, deadline, url)
    return FetchedDocument(
        url, str(response.url), media_type, charset, data, response.status_code, etag, modified
    )


def read_capped(
    chunks: Iterator[bytes], encoding: str, max_bytes: int, deadline: float, url: str
) -> bytes:
    """The decoded body, refused as soon as it grows past max_bytes or the deadline passes."""
    decompressor = _decompressor(encoding, url)
    try:
        return _read_capped(chunks, decompressor, max_bytes, deadline, url)
    except zlib.error as exc:
        raise FetchError(f"{url}: damaged compressed body ({exc})") from exc


def _read_capped(
    chunks: Iterator[bytes],
    decompressor: zlib._Decompress | None,
    max_bytes: int,
    deadline: float,
    url: str,
) -> bytes:
    out = bytearray()
    for chunk in chunks:
        if time.monotonic() > deadline:
            raise FetchError(f"{url}: timed out (the download took too long)")
        if decompressor is None:
            out += chunk
        else:
            data = chunk
            while data:
                out += decompressor.decompress(data, max_bytes + 1 - len(out))
                data = decompressor.unconsumed_tail
                if len(out) > max_bytes:
                    break
        if len(out) > max_bytes:
            raise FetchError(f"{url}: too large (more than {max_bytes:,} bytes)")
    if decompressor is not None:
        out += decompressor.flush(max_bytes + 1 - len(out))
        if len(out) > max_bytes:
            raise FetchError(f"{url}: too large (more than {max_bytes:,} bytes)")
    return bytes(out)


def _decompressor(encoding: str, url: str) -> zlib._Decompress | None:
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, detected
    raise FetchError(f"{url}: unsupported content encoding '{encoding}'")


def _content_type(header: str) -> tuple[str, str | None]:
    parts = [p.strip() for p in header.split(";")]
    media_type = parts[0].lower()
    charset = None
    for param in parts[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'").lower()
    return media_type, charset


def _timeout_kind(exc: httpx.TimeoutException) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "no connection"
    if isinstance(exc, httpx.ReadTimeout):
        return "no response"
    return "too slow"


def _short(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:160]
