"""Briefing features on small self-written articles: newest first, figures that disagree,
as-of dating (including wire datelines), and attribution kept in the answer."""

from datetime import date

from bot.service import Briefbot
from index.ingest.text import dateline_date, parse_text_article
from index.knowledge import KnowledgeBase
from index.models import RawArticle
from tests.conftest import HashingEmbedder

OLD = RawArticle(
    text="Officials said about 10,000 troops were deployed to the border region last week. "
    "The deployment drew protests.",
    title="Troops sent to border",
    source="Wire A",
    published=date(2024, 10, 20),
    origin="old",
)
NEW = RawArticle(
    text="Officials said about 11,000 troops were deployed to the border region by Monday. "
    "Talks are planned.",
    title="More troops sent to border",
    source="Wire B",
    published=date(2024, 11, 4),
    origin="new",
)


def make_app(settings, *articles):
    app = Briefbot(settings, KnowledgeBase(settings, embedder=HashingEmbedder()))
    app.knowledge.add(list(articles))
    return app


def test_newer_article_leads_and_disagreeing_figures_are_reported(settings):
    app = make_app(settings, OLD, NEW)
    answer = app.ask("How many troops were deployed to the border region?")
    assert not answer.abstained
    assert answer.citations[0].passage.article.source == "Wire B"
    assert answer.highlight == "11,000"
    assert answer.as_of == date(2024, 11, 4) and answer.as_of_source == "Wire B"
    assert len(answer.conflicts) == 1
    conflict = answer.conflicts[0]
    assert conflict.values == ("11,000", "10,000")  # newest first
    assert [answer.citations[n - 1].passage.article.source for n in conflict.citations] == [
        "Wire B",
        "Wire A",
    ]


def test_same_figure_in_two_articles_is_no_conflict(settings):
    same = RawArticle(
        text=NEW.text.replace("by Monday", "this week"),
        title="Copy",
        source="Wire C",
        published=date(2024, 11, 5),
        origin="c",
    )
    app = make_app(settings, NEW, same)
    answer = app.ask("How many troops were deployed to the border region?")
    assert answer.conflicts == ()


def test_order_is_by_date_only_among_answers_of_similar_strength(settings):
    unrelated = RawArticle(
        text="The city council approved a new budget for parks on Friday.",
        title="Parks budget",
        source="Wire D",
        published=date(2025, 1, 1),
        origin="d",
    )
    app = make_app(settings, OLD, unrelated)
    answer = app.ask("How many troops were deployed to the border region?")
    assert answer.citations[0].passage.article.source == "Wire A"
    assert answer.conflicts == ()


def test_attribution_is_kept_in_the_answer(settings):
    app = make_app(settings, NEW)
    answer = app.ask("How many troops were deployed?")
    assert answer.text.startswith("Officials said")


def test_dateline_gives_the_published_date():
    assert dateline_date("SEOUL, Nov. 4 (Yonhap) -- Text.", date(2024, 11, 20)) == date(2024, 11, 4)
    assert dateline_date("SEOUL, Dec. 4 (Yonhap) -- Text.", date(2024, 11, 20)) == date(2023, 12, 4)
    assert dateline_date("WASHINGTON, March 3, 2023 \u2014 Text", date(2024, 1, 1)) == date(
        2023, 3, 3
    )
    assert dateline_date("The office said on Nov. 4 that", date(2024, 11, 20)) is None
    raw = parse_text_article("Troops\n\nKYIV, Oct. 30 (Reuters) - At least 11,000 troops arrived.")
    assert raw.published is not None and (raw.published.month, raw.published.day) == (10, 30)
    explicit = parse_text_article(
        "T\n\nKYIV, Oct. 30 (Reuters) - Text here.\n\nPublished: 2020-01-02"
    )
    assert explicit.published == date(2020, 1, 2)
