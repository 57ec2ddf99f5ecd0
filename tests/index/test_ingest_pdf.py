"""PDFs: text and metadata, and a hostile PDF cannot hang or crash the caller."""

from __future__ import annotations

import sys
from datetime import date

import pytest

from index.errors import InputError
from index.ingest.files import DocumentLimits, parse_article_bytes, read_article_file
from index.ingest.pdf import read_pdf
from tests.ingest_fixtures import NEWS_PARAGRAPHS, make_pdf, wrap


def test_pdf_text_title_and_date(tmp_path):
    pdf = make_pdf(
        [wrap(NEWS_PARAGRAPHS[0] + " " + NEWS_PARAGRAPHS[1]), wrap(NEWS_PARAGRAPHS[2])],
        title="Harlow Ridge fire: evacuation report",
        created="20240312101500Z",
    )
    (tmp_path / "report.pdf").write_bytes(pdf)
    raw = read_article_file(tmp_path / "report.pdf")
    assert raw.title == "Harlow Ridge fire: evacuation report"
    assert raw.published == date(2024, 3, 12)
    assert "340 firefighters" in raw.text and "8,500 acres" in raw.text


def test_pdf_is_recognised_by_content_not_name():
    pdf = make_pdf([wrap(" ".join(NEWS_PARAGRAPHS))])
    assert "8,500 acres" in parse_article_bytes(pdf, "attachment").text
    assert "8,500 acres" in parse_article_bytes(pdf, "notes.txt").text
    with pytest.raises(InputError, match=r"fake\.pdf: not a PDF"):
        parse_article_bytes(b"Just some text that claims to be a PDF file.", "fake.pdf")


def test_pdf_without_text_is_not_an_article():
    with pytest.raises(InputError, match="blank.pdf: no article text found"):
        parse_article_bytes(make_pdf([[]]), "blank.pdf")


def test_damaged_pdf_gives_one_line():
    with pytest.raises(InputError, match=r"bad\.pdf: not a readable PDF") as caught:
        parse_article_bytes(b"%PDF-1.4\n" + b"\x00garbage" * 100, "bad.pdf")
    assert "\n" not in str(caught.value)


def test_page_cap():
    pdf = make_pdf([["page"]] * 60)
    with pytest.raises(InputError, match="has 60 pages; limit 50"):
        read_pdf(pdf, timeout=30, max_pages=50)


def test_a_pdf_reader_that_hangs_is_killed_at_the_time_limit():
    hang = [sys.executable, "-c", "import time; time.sleep(60)"]
    pdf = make_pdf([["hello"]])
    with pytest.raises(InputError, match=r"took longer than 1 s"):
        read_pdf(pdf, timeout=1, command=hang)


def test_a_pdf_reader_that_crashes_is_reported():
    crash = [sys.executable, "-c", "import os; os.abort()"]
    with pytest.raises(InputError, match="not a readable PDF"):
        read_pdf(make_pdf([["hello"]]), timeout=10, command=crash)


def test_time_limit_comes_from_document_limits(monkeypatch):
    seen = {}

    def fake_read_pdf(data, timeout, max_pages):
        seen.update(timeout=timeout, max_pages=max_pages)
        raise InputError("stop")

    monkeypatch.setattr("index.ingest.files.read_pdf", fake_read_pdf)
    with pytest.raises(InputError, match="x.pdf: stop"):
        parse_article_bytes(
            make_pdf([["a"]]), "x.pdf", DocumentLimits(pdf_timeout=3, pdf_max_pages=7)
        )
    assert seen == {"timeout": 3, "max_pages": 7}
