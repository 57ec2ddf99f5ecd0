"""Markdown files become plain text: no markup is stored, quoted or searched."""

from __future__ import annotations

from index.ingest.files import parse_article_bytes
from index.ingest.text import parse_text_article
from index.normalize import normalize

COUNCIL = """\
Published: 2026-11-03

# Riverside council approves *flood* barrier

**Riverside** city council voted 7-2 on Tuesday to build a flood barrier along the
river, after [Tom Hardy](https://example.org/people/tom-hardy), the council's engineer,
said the old wall would not survive another winter. ![The river](river.jpg)

## What the barrier costs

| item | value |
|---|---|
| Barrier | 4.2 million |
| Pumps | 0.8 million |

The work comes in three steps:

1. Clearing the bank
2. Building the wall
3. Testing the `pumps`

> "We cannot wait for the next flood," the mayor said.

Source: Riverside Chronicle
"""


def clean_text(markdown: str, name: str = "council.md") -> str:
    """The text as stored: parsed, then normalized."""
    return normalize(parse_article_bytes(markdown.encode(), name).text).text


def test_markup_is_dropped_and_link_text_kept():
    raw = parse_article_bytes(COUNCIL.encode(), "council.md")
    assert raw.title == "Riverside council approves flood barrier"
    assert raw.source == "Riverside Chronicle" and raw.published.isoformat() == "2026-11-03"
    text = normalize(raw.text).text
    assert text.startswith("Riverside city council voted 7-2 on Tuesday")
    assert "after Tom Hardy, the council's engineer, said" in text
    for markup in ("**", "](", "[Tom", "#", "`", "|---", "> ", "river.jpg"):
        assert markup not in text


def test_headings_are_paragraphs_lists_and_table_rows_are_lines():
    text = clean_text(COUNCIL)
    assert "winter.\n\nWhat the barrier costs\n\nitem | value\n" in text
    assert "\nBarrier | 4.2 million\nPumps | 0.8 million\n\n" in text
    steps = "1. Clearing the bank\n2. Building the wall\n3. Testing the pumps"
    assert f"three steps:\n\n{steps}\n\n" in text
    assert text.endswith('\n\n"We cannot wait for the next flood," the mayor said.')


def test_setext_heading_is_the_title_and_a_title_line_wins():
    raw = parse_article_bytes(b"Port strike ends\n===\n\nDock workers voted to go back.", "p.md")
    assert raw.title == "Port strike ends" and raw.text == "Dock workers voted to go back."
    titled = b"Title: Strike over\n\n# Port strike ends\n\nDock workers voted to go back."
    raw = parse_article_bytes(titled, "p.md")
    assert raw.title == "Strike over" and raw.text.startswith("Port strike ends\n\n")


def test_plain_text_files_are_not_read_as_markdown():
    text = "Prices rose\n\nShares of *Acme* rose 5 percent, said [sic] the filing."
    assert "*Acme* rose" in parse_article_bytes(text.encode(), "prices.txt").text
    assert "*Acme* rose" in parse_text_article(text).text


def test_html_blocks_keep_their_text_without_tags_scripts_or_comments():
    markdown = (
        "# Storm update\n\nThe storm passed overnight.\n\n<!DOCTYPE html><script>track()</script>\n"
        "\n<div class='note'>Editor's <b>note</b>: updated Monday.</div>\n<!-- draft -->\n\n"
        "<p>Power is back in most towns.</p>\n<p>Schools reopen on Wednesday.</p>\n"
    )
    raw = parse_article_bytes(markdown.encode(), "update.md")
    assert raw.text == (
        "The storm passed overnight.\n\nEditor's note: updated Monday.\n\n"
        "Power is back in most towns.\n\nSchools reopen on Wednesday."
    )
