"""A link to an article: fetch it (guarded), identify what came back, extract, fix the URL.

The URL an article is stored under is what recognises it when it is added again, so it is
normalised (no fragment, no tracking parameters, lower-case host) and, for web pages, the
page's own canonical URL is used when it names the same site. A canonical URL pointing at
another site is ignored: otherwise any page could claim to be another outlet's article and
replace it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from index.errors import InputError
from index.ingest.files import DocumentLimits, identify, parse_document
from index.ingest.guard import UrlGuard
from index.ingest.web import ALLOWED_TYPES, FetchLimits, fetch
from index.models import RawArticle
from index.settings import IndexSettings

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_TRACKING = ("utm_", "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "_ga", "igshid")


@dataclass(frozen=True)
class LinkReader:
    """Everything needed to turn a link into an article, built once from the settings."""

    guard: UrlGuard = field(default_factory=UrlGuard)
    fetch_limits: FetchLimits = field(default_factory=FetchLimits)
    document_limits: DocumentLimits = field(default_factory=DocumentLimits)

    @classmethod
    def from_settings(cls, settings: IndexSettings) -> LinkReader:
        return cls(
            guard=UrlGuard(allow_private=settings.allow_private_urls),
            fetch_limits=FetchLimits(
                connect_timeout=settings.fetch_timeout,
                read_timeout=settings.fetch_timeout,
                total_timeout=settings.fetch_total_timeout,
                max_bytes=settings.fetch_max_bytes,
                max_redirects=settings.fetch_max_redirects,
            ),
            document_limits=document_limits(settings),
        )

    def read(self, url: str) -> RawArticle:
        """The article behind a link; InputError (one line, naming the link) otherwise."""
        url = url.strip()
        document = fetch(url, self.guard, self.fetch_limits)
        media_type = document.content_type
        kind = identify(
            document.data, url, media_type if media_type in ALLOWED_TYPES else "", by_name=False
        )
        try:
            raw = parse_document(
                document.data,
                kind,
                url,
                self.document_limits,
                url=document.url,
                charset=document.charset,
            )
        except InputError as exc:
            message = str(exc)
            if "no article text" in message:
                message = f"{url}: not an article (no article text found)"
            raise InputError(message) from exc
        return replace(raw, url=self.article_url(raw.url, document.url), origin=url)

    def article_url(self, canonical: str | None, fetched: str) -> str:
        """The page's canonical URL when it is on the same site, else the fetched one."""
        if canonical and canonical != fetched and same_site(canonical, fetched):
            try:
                return normalize_url(self.guard.check_url(canonical))
            except InputError:
                pass
        return normalize_url(fetched)


def document_limits(settings: IndexSettings) -> DocumentLimits:
    return DocumentLimits(
        pdf_timeout=settings.pdf_timeout,
        pdf_max_pages=settings.pdf_max_pages,
    )


def is_link(source: str) -> bool:
    """Whether a source is a link (any scheme: the guard then refuses what is not http(s))."""
    return _SCHEME.match(source.strip()) is not None


def normalize_url(url: str) -> str:
    """One spelling per article link: lower-case scheme and host, no fragment or tracking."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").rstrip(".")
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    netloc = host if port in (None, default) else f"{host}:{port}"
    if ":" in host:  # IPv6 literal
        netloc = f"[{host}]" if port in (None, default) else f"[{host}]:{port}"
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not k.lower().startswith(_TRACKING)
        ]
    )
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", query, ""))


def same_site(a: str, b: str) -> bool:
    """Whether two links are on one site: equal hosts, or one a subdomain of the other."""
    host_a = _bare_host(a)
    host_b = _bare_host(b)
    if not host_a or not host_b:
        return False
    return host_a == host_b or host_a.endswith("." + host_b) or host_b.endswith("." + host_a)


def _bare_host(url: str) -> str:
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    return host[4:] if host.startswith("www.") else host
