"""Test material for adding by link: a local web server that counts connections, pages, PDFs.

The server binds to 127.0.0.1 only, serves a fixed table of routes, and every wait in it is
bounded and cut short when the test ends.
"""

from __future__ import annotations

import gzip
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NEWS_PARAGRAPHS = [
    "Emergency crews evacuated 1,200 residents from the Harlow Ridge valley on Tuesday after "
    "a wildfire jumped the containment line north of the reservoir, officials said.",
    "The county fire chief, Dana Moreno, said 340 firefighters and six helicopters were "
    "working to protect homes along the eastern ridge as winds reached 45 miles per hour.",
    "The fire has burned about 8,500 acres since it started on Saturday near a campground. "
    "Its cause is under investigation, and no injuries have been reported so far.",
    "Shelters opened at two high schools in Greenvale, where volunteers handed out water, "
    "blankets and phone chargers to families who left with little warning.",
    "Forecasters expect cooler air and light rain by Thursday, which could help crews "
    "strengthen the lines before the weekend, Moreno told reporters at an evening briefing.",
]

NEWS_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Wildfire forces 1,200 to evacuate Harlow Ridge | Valley Courier</title>
<meta property="og:site_name" content="Valley Courier">
</head><body>
<header><a href="/">Valley Courier</a>
<nav><ul><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/weather">Weather</a></li><li><a href="/subscribe">Subscribe now</a></li></ul></nav>
</header>
<div class="ad">ADVERTISEMENT: Buy the best garden hoses at HoseMart today</div>
<main><article>
<h1>Wildfire forces 1,200 to evacuate Harlow Ridge</h1>
<p class="byline">By Sam Ortiz</p>
{paragraphs}
</article></main>
<aside class="related"><h3>Most read</h3><ul><li><a href="/a">Council votes on parking fees</a></li>
<li><a href="/b">High school team wins regional final</a></li></ul></aside>
<section id="comments" class="comments"><h3>Comments</h3>
<div class="comment"><p>Prayers for everyone up on the ridge, stay safe out there friends.</p></div>
<div class="comment"><p>Why did the county not clear the brush last summer?</p></div>
</section>
<footer><p>Copyright 2024 Valley Courier. All rights reserved.</p>
<a href="/privacy">Privacy policy</a></footer>
</body></html>
""".replace("{paragraphs}", "\n".join(f"<p>{p}</p>" for p in NEWS_PARAGRAPHS))

# The same story republished by another outlet: a near-identical copy (syndicated).
SYNDICATED = (
    NEWS_PAGE.replace("Valley Courier", "Mountain Post")
    .replace("Wildfire forces 1,200 to evacuate Harlow Ridge", "1,200 flee Harlow Ridge wildfire")
    .replace("By Sam Ortiz", "By Sam Ortiz, Valley Courier (syndicated)")
    .replace("officials said.", "county officials said.")
)

META_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8">
<title>Rates page</title>
<meta property="og:title" content="Central bank holds rates at 4.5 percent">
<meta property="og:site_name" content="Ledger Daily">
<meta name="author" content="Priya Natarajan">
<meta property="article:published_time" content="2024-03-14T09:30:00Z">
<link rel="canonical" href="http://{host}/markets/central-bank-holds-rates">
</head><body>
<article>
<h1>Central bank holds rates at 4.5 percent</h1>
<p>The central bank kept its main interest rate at 4.5 percent on Thursday, saying inflation
had slowed to 2.9 percent but remained above its 2 percent target.</p>
<p>Governor Elena Brandt said the committee voted seven to two to hold, with two members
favouring a quarter-point cut to support hiring in manufacturing.</p>
<p>Markets had priced in a hold, and the currency was little changed after the decision was
published at noon.</p>
</article></body></html>
"""

NAV_ONLY_PAGE = """<!DOCTYPE html><html><head><title>Home</title></head><body>
<nav><a href="/">Home</a> | <a href="/news">News</a> | <a href="/login">Log in</a></nav>
<footer>Copyright 2024</footer></body></html>"""


def make_pdf(pages: list[list[str]], title: str | None = None, created: str | None = None) -> bytes:
    """A small valid PDF: one Helvetica text line per string, pages as given."""
    objects: list[bytes] = []
    count = len(pages)
    font_id = 3 + 2 * count
    info_id = font_id + 1
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(count))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode())
    for i, lines in enumerate(pages):
        content_id = 4 + 2 * i
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_id} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        ops = ["BT", "/F1 11 Tf", "72 740 Td", "14 TL"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({escaped}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(
            b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream"
        )
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    info = []
    if title:
        info.append(f"/Title ({title})")
    if created:
        info.append(f"/CreationDate (D:{created})")
    objects.append(f"<< {' '.join(info)} >>".encode())
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {info_id} 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def wrap(text: str, width: int = 80) -> list[str]:
    """Text as lines of at most `width` characters, split at spaces."""
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        lines.append(current)
    return lines


def gzip_bomb(size: int) -> bytes:
    """`size` zero bytes, gzipped: a few KB on the wire."""
    return gzip.compress(b"\0" * size, compresslevel=9)


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (bounded by the server's stop event)
    etag: str | None = None  # sent as ETag; a request naming it in If-None-Match gets a 304


class CountingServer:
    """A threaded HTTP server on 127.0.0.1 that records every connection it accepts."""

    def __init__(
        self, routes: dict[str, Route] | None = None, tls: ssl.SSLContext | None = None
    ) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.connections = 0
        self.requests: list[str] = []
        self.request_headers: list[dict[str, str]] = []
        self.stop = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                outer.requests.append(self.path)
                outer.request_headers.append({k.lower(): v for k, v in self.headers.items()})
                route = outer.routes.get(self.path.split("?", 1)[0])
                if route is None:
                    route = Route(404, b"<html><body>Not here</body></html>")
                if route.delay and outer.stop.wait(route.delay):
                    return
                unchanged = route.etag is not None and self.headers["If-None-Match"] == route.etag
                try:
                    self.send_response(304 if unchanged else route.status)
                    for key, value in route.headers.items():
                        self.send_header(key, value)
                    if route.etag is not None:
                        self.send_header("ETag", route.etag)
                    self.end_headers()
                    if not unchanged:
                        self.wfile.write(route.body)
                except OSError:
                    pass  # the client gave up (a cap or a timeout): expected in these tests

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def process_request(self, request: object, client_address: object) -> None:
                outer.connections += 1
                super().process_request(request, client_address)  # type: ignore[arg-type]

        self._server = Server(("127.0.0.1", 0), Handler)
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.port = self._server.server_address[1]
        # A short poll interval: shutdown() waits up to one interval (0.5 s by default).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def add(self, path: str, route: Route) -> str:
        self.routes[path.split("?", 1)[0]] = route
        return self.base + path

    def __enter__(self) -> CountingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def serving(
    routes: dict[str, Route] | None = None, tls: ssl.SSLContext | None = None
) -> Iterator[CountingServer]:
    with CountingServer(routes, tls) as server:
        yield server


def html_route(body: str, status: int = 200, **headers: str) -> Route:
    return Route(
        status, body.encode("utf-8"), {"Content-Type": "text/html; charset=utf-8", **headers}
    )
