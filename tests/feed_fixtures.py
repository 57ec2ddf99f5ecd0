"""Test material for feeds: stories (each its own page), and the same entries as RSS 2.0,
Atom and JSON Feed, plus hostile and broken feeds. Served by tests/ingest_fixtures.py."""

from __future__ import annotations

import json
from dataclasses import dataclass
from xml.sax.saxutils import escape

from tests.ingest_fixtures import Route

STORIES = {
    "bridge": (
        "Harbor bridge reopens after repairs",
        [
            "The Kessel harbor bridge reopened to traffic on Monday after eleven weeks of "
            "repairs to its steel deck, the city transport office said.",
            "Engineers replaced 240 metres of corroded plating and repainted the towers, at a "
            "cost of 18 million euros, slightly below the budget approved in March.",
            "Commuters who had used the ferry during the closure said the crossing now takes "
            "six minutes instead of the forty they had grown used to.",
        ],
    ),
    "orchard": (
        "Apple growers report record harvest",
        [
            "Apple growers in the Lindmoor valley picked a record 92,000 tonnes this autumn, "
            "the regional farmers' union announced on Wednesday.",
            "A mild spring without late frost let the blossoms set fruit on almost every "
            "tree, said union chair Petra Vos, who has farmed there for thirty years.",
            "Cold stores are nearly full, and some growers are selling directly to juice "
            "presses because supermarkets have cut the prices they pay per crate.",
        ],
    ),
    "library": (
        "New central library opens its doors",
        [
            "The new central library of Ostrava Nova opened on Saturday with 310,000 books "
            "and a rooftop reading garden designed by a local architecture firm.",
            "Mayor Ilse Brandt said the building replaces three branch libraries that had "
            "leaking roofs, and that opening hours now run until ten at night.",
            "More than 4,000 visitors came on the first day, and the children's floor ran "
            "out of library cards before noon, staff said.",
        ],
    ),
    "tram": (
        "Night trams return to the city centre",
        [
            "Night trams will run again in the city centre from the first of December, the "
            "transit authority said on Thursday after a two year pause.",
            "Lines four and nine will run every twenty minutes between midnight and five in "
            "the morning, financed by a new levy on late-night venues.",
            "Bar owners welcomed the decision, saying their staff had struggled to get home "
            "safely since the service was cut during the budget crisis.",
        ],
    ),
}
FEED_TEXT = (
    "Volunteers planted 1,500 oak saplings along the Ember river on Sunday to slow erosion of "
    "its banks, the conservation group Green Ember said. The group plans a second planting "
    "day in the spring and asks residents to bring spades and gloves."
)


def page(key: str, published: str | None = None, paragraphs: list[str] | None = None) -> str:
    """A story's own web page; with `published`, it states its date (else none at all)."""
    title, body = STORIES[key]
    meta = f'<meta property="article:published_time" content="{published}">' if published else ""
    text = "\n".join(f"<p>{p}</p>" for p in (paragraphs or body))
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>{meta}"
        f"<meta property='og:site_name' content='Kessel Herald'></head><body><article>"
        f"<h1>{title}</h1>{text}</article></body></html>"
    )


@dataclass(frozen=True)
class Item:
    guid: str
    link: str
    title: str
    date: str = "Mon, 03 Nov 2025 09:00:00 GMT"  # RSS form; Atom/JSON get ISO below
    content: str = ""
    updated: str | None = None


def rss(items: list[Item], title: str = "Kessel Herald") -> bytes:
    parts = []
    for i in items:
        content = f"<description>{escape(i.content)}</description>" if i.content else ""
        parts.append(
            f"<item><title>{escape(i.title)}</title><link>{escape(i.link)}</link>"
            f'<guid isPermaLink="false">{escape(i.guid)}</guid><pubDate>{i.date}</pubDate>'
            f"{content}</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>http://example.org/</link>"
        f"<description>News</description>{''.join(parts)}</channel></rss>"
    ).encode()


def atom(items: list[Item], title: str = "Kessel Herald Atom") -> bytes:
    parts = []
    for i in items:
        updated = i.updated or "2025-11-03T09:00:00Z"
        parts.append(
            f"<entry><id>{escape(i.guid)}</id><title>{escape(i.title)}</title>"
            f'<link rel="alternate" href="{escape(i.link)}"/><published>2025-11-03T09:00:00Z'
            f"</published><updated>{updated}</updated>"
            f'<content type="html">{escape(i.content)}</content></entry>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:feed</id><updated>2025-11-03T09:00:00Z</updated>"
        f"{''.join(parts)}</feed>"
    ).encode()


def json_feed(items: list[Item], title: str = "Kessel Herald JSON") -> bytes:
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": title,
            "items": [
                {
                    "id": i.guid,
                    "url": i.link,
                    "title": i.title,
                    "date_published": "2025-11-03T09:00:00Z",
                    **({"content_html": i.content} if i.content else {}),
                    **({"date_modified": i.updated} if i.updated else {}),
                }
                for i in items
            ],
        }
    ).encode()


def feed_route(body: bytes, kind: str = "rss", etag: str | None = None, **headers: str) -> Route:
    types = {
        "rss": "application/rss+xml",
        "atom": "application/atom+xml",
        "json": "application/feed+json",
    }
    return Route(200, body, {"Content-Type": types[kind], **headers}, etag=etag)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY a "lollollollollollollollollollol">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
]>
<rss version="2.0"><channel><title>&e;</title><item><title>&e;</title>
<link>http://example.org/x</link></item></channel></rss>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>Leak</title><item><title>&secret;</title>
<link>http://example.org/x</link></item></channel></rss>"""

MALFORMED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Broken</title>
<item><title>Unclosed <link>http://example.org/x</link></channel></rss>"""

EMPTY_FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title>'
    b"<link>http://example.org/</link><description>none</description></channel></rss>"
)

PLAIN_PAGE = (
    "<!DOCTYPE html><html><head><title>Home</title></head><body><p>Welcome to our site. "
    "We write about the harbour and the town every day of the week.</p></body></html>"
)


def announcing_page(feed_href: str, kind: str = "application/rss+xml") -> str:
    """A site's home page that names its feed."""
    return (
        "<!DOCTYPE html><html><head><title>Kessel Herald</title>"
        f'<link rel="alternate" type="{kind}" title="News" href="{feed_href}">'
        "</head><body><p>Latest news from Kessel.</p></body></html>"
    )
