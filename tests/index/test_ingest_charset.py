"""Charsets: byte-order marks first, legacy code pages only when the reading is unambiguous."""

from __future__ import annotations

import codecs

import pytest

from index.errors import InputError
from index.ingest.files import parse_article_bytes

STORY = (
    "Ferry service resumes\n\n"
    "The ferry between the two harbours sailed again on Monday after the storm, "
    "the operator said. Café owners on the quay welcomed the news."
)
# Michał and Gdańsk: ISO-8859-2 bytes that Windows-1252 reads as "Micha³" and "Gdañsk".
POLISH_NAMES = (
    "Shipyard strike ends\n\n"
    "Workers at the Gdańsk shipyard returned on Tuesday after a four-day strike over pay. "
    "The union leader, Michał Nowak, said wages would rise by 9 percent from January."
)
POLISH = (
    "Burza nad Gdańskiem\n\n"
    "Silny wiatr zerwał dachy w Gdańsku i Sopocie. Prezydent miasta powiedział, że naprawy "
    "potrwają tydzień, a szkoły pozostaną zamknięte do środy."
)
# Only "ń": Windows-1252 reads a clean-looking "Gdañsk"; nothing in the bytes says which.
ONLY_N = (
    "Ferry to Gdańsk\n\n"
    "The ferry between Gdańsk and Karlskrona sailed again on Monday after the storm."
)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"])
def test_text_with_a_byte_order_mark_is_read(encoding):
    data = STORY.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):  # these codecs write no mark of their own
        bom = codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE
        data = bom + data
    raw = parse_article_bytes(data, "ferry.txt")
    assert raw.title == "Ferry service resumes"
    assert "Café owners" in raw.text and "\ufeff" not in raw.text


def test_utf16_html_file_is_read_as_a_page():
    page = (
        "<!DOCTYPE html><html><head><meta charset='windows-1252'><title>Ferry</title></head>"
        "<body><article><h1>Ferry service resumes</h1><p>The ferry between the two harbours "
        "sailed again on Monday after the storm, the operator said.</p></article></body></html>"
    )
    raw = parse_article_bytes(page.encode("utf-16"), "ferry.html")
    assert raw.title == "Ferry service resumes" and "sailed again on Monday" in raw.text


def test_damaged_utf16_is_refused_clearly():
    data = STORY.encode("utf-16") + b"\x00\xd8"  # a lone high surrogate at the end
    with pytest.raises(InputError, match=r"^ferry\.txt: damaged UTF-16 text"):
        parse_article_bytes(data, "ferry.txt")


@pytest.mark.parametrize("text", [POLISH_NAMES, POLISH], ids=["names-in-english", "polish"])
@pytest.mark.parametrize("encoding", ["iso-8859-2", "cp1250"])
def test_central_european_text_decodes_correctly(text, encoding):
    raw = parse_article_bytes(text.encode(encoding), "story.txt")
    assert raw.text == text.split("\n\n", 1)[1]


def test_ambiguous_legacy_text_is_refused_not_stored_as_mojibake():
    with pytest.raises(InputError) as caught:
        parse_article_bytes(ONLY_N.encode("iso-8859-2"), "ferry.txt")
    message = str(caught.value)
    assert message.startswith("ferry.txt: cannot tell the character encoding")
    assert "'Gdańsk'" in message and "'Gdañsk'" in message and "UTF-8" in message
    assert "\n" not in message


def test_unambiguous_western_text_is_still_decoded():
    raw = parse_article_bytes(STORY.encode("cp1252"), "ferry.txt")
    assert "Café owners" in raw.text


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("La crème brûlée du café de la gare était délicieuse, a déclaré le maître.", "brûlée"),
        ("Die Bürger in Zürich und München wählten am Sonntag; die Straße war voll.", "Straße"),
    ],
)
def test_latin1_french_and_german_are_read_not_refused(text, word):
    """Windows-1250 reads the same bytes as clean-looking 'crčme brűlée', but no language
    writes č with ű: a reading whose letters fit no single alphabet is not the right one."""
    raw = parse_article_bytes(f"Story\n\n{text}".encode("latin-1"), "story.txt")
    assert word in raw.text
