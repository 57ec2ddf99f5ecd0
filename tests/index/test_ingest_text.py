from datetime import date

import pytest

from index.errors import InputError
from index.ingest.files import iter_article_files, read_article_file
from index.ingest.text import derive_title, parse_text_article, with_overrides
from tests.conftest import CORPORA, needs_shared


def test_title_line_body_and_trailing_metadata():
    raw = parse_text_article(
        "Port strike begins\n\nWorkers walked out on Monday.\nMore text here.\n\n"
        "Source: Example Wire\nPublished: 2026-11-02\n"
    )
    assert raw.title == "Port strike begins"
    assert raw.source == "Example Wire"
    assert raw.published == date(2026, 11, 2)
    assert raw.text == "Workers walked out on Monday.\nMore text here."


def test_markdown_heading_and_top_metadata():
    raw = parse_text_article("URL: https://example.org/a\n# A *headline*\n\nBody text is here.")
    assert raw.title == "A headline"
    assert raw.url == "https://example.org/a"


def test_no_title_line_derives_a_readable_one():
    body = (
        "The presidential office said Wednesday that it will begin talks with Ukraine this "
        "week over a visit by an envoy. Second sentence."
    )
    raw = parse_text_article(body)
    assert raw.title.startswith("The presidential office said Wednesday")
    assert len(raw.title) <= 91
    assert raw.text == body
    assert derive_title("Short one. Next.") == "Short one"


def test_byline_after_source_is_dropped():
    raw = parse_text_article(
        "Body sentence one is here.\n\nSource: Yonhap News Agency\n\nNews Reporter"
    )
    assert raw.source == "Yonhap News Agency"
    assert raw.text == "Body sentence one is here."


def test_overrides_win():
    raw = parse_text_article("Title\n\nBody text here for sure.")
    raw = with_overrides(raw, title="New", source=None, published=date(2024, 1, 2))
    assert (raw.title, raw.source, raw.published) == ("New", None, date(2024, 1, 2))


def test_empty_and_binary_files_are_refused(tmp_path):
    (tmp_path / "empty.txt").write_text("   \n\n")
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "doc.docx").write_text("x")
    with pytest.raises(InputError, match="no article text"):
        read_article_file(tmp_path / "empty.txt")
    with pytest.raises(InputError, match="binary"):
        read_article_file(tmp_path / "bin.txt")
    with pytest.raises(InputError, match="unsupported file type"):
        read_article_file(tmp_path / "doc.docx")


def test_latin1_file_is_decoded(tmp_path):
    (tmp_path / "a.txt").write_bytes(
        "Caf\xe9 owners protest\n\nThe caf\xe9 owners in the "
        "centre said prices rose sharply this year.".encode("latin-1")
    )
    raw = read_article_file(tmp_path / "a.txt")
    assert raw.title == "Café owners protest"


def test_html_file_uses_trafilatura(tmp_path):
    html = """<html><head><title>Storm hits coast</title>
    <meta property="og:site_name" content="Coast News"></head><body>
    <nav>Home | World | Sport</nav><article><h1>Storm hits coast</h1>
    <p>A powerful storm hit the coast on Tuesday, cutting power to 40,000 homes.</p>
    <p>Officials said repairs would take several days as crews worked through the night.</p>
    </article><footer>Copyright</footer></body></html>"""
    (tmp_path / "storm.html").write_text(html)
    raw = read_article_file(tmp_path / "storm.html")
    assert raw.title == "Storm hits coast"
    assert "40,000 homes" in raw.text
    assert "Home | World" not in raw.text


def test_folder_walk_is_recursive_sorted_and_skips_hidden(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    for name in ("b/2.md", "1.txt", ".git/x.txt", "notes.pdfx"):
        (tmp_path / name).write_text("x")
    assert [p.relative_to(tmp_path).as_posix() for p in iter_article_files(tmp_path)] == [
        "1.txt",
        "b/2.md",
    ]


def test_seed_article_fields():
    path = CORPORA / "seed" / "yonhap-north-korean-troops.txt"
    needs_shared(path)
    raw = read_article_file(path)
    assert raw.source == "Yonhap News Agency"
    assert raw.title.startswith("The presidential office")
    assert "News Reporter" not in raw.text
