"""Briefing features on small self-written articles: newest first, figures that disagree,
as-of dating (including wire datelines), and attribution kept in the answer."""

from datetime import UTC, date, datetime

from bot.answer.briefing import conflicting_figures, newest_first
from bot.answer.models import Citation
from bot.service import Briefbot
from index.ingest.text import dateline_date, parse_text_article
from index.knowledge import KnowledgeBase
from index.models import Article, Passage, RawArticle, Sentence, Span
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


def test_a_dateline_with_its_year_gives_the_published_date():
    assert dateline_date("WASHINGTON, March 3, 2023 \u2014 Text") == date(2023, 3, 3)
    assert dateline_date("SEOUL, Nov. 4, 2024 (Yonhap) -- Text.") == date(2024, 11, 4)
    assert dateline_date("The office said on Nov. 4, 2024 that") is None
    raw = parse_text_article("Troops\n\nKYIV, Oct. 30, 2024 (Reuters) - 11,000 troops arrived.")
    assert raw.published == date(2024, 10, 30)
    explicit = parse_text_article(
        "T\n\nKYIV, Oct. 30, 2024 (Reuters) - Text here.\n\nPublished: 2020-01-02"
    )
    assert explicit.published == date(2020, 1, 2)


def test_a_dateline_without_a_year_leaves_the_date_unknown():
    """The year would be a guess (the year of adding made an old story read as current)."""
    assert dateline_date("SEOUL, Nov. 4 (Yonhap) -- Text.") is None
    raw = parse_text_article("Troops\n\nKYIV, Oct. 30 (Reuters) - At least 11,000 troops arrived.")
    assert raw.published is None


def _citation(n, sentence, mark, article_id, published, score=0.9):
    """A citation whose passage is one sentence, `mark` highlighted (its first occurrence)."""
    article = Article(
        id=article_id,
        collection="default",
        title=f"Story {article_id}",
        source="Wire",
        url=None,
        published=published,
        added_at=datetime(2026, 11, 29, 9, 0, tzinfo=UTC),
        content_hash=f"h{article_id}",
    )
    passage = Passage(n, article, sentence, 0, len(sentence), (Sentence(0, len(sentence)),), score)
    start = sentence.index(mark)
    return Citation(n, passage, Sentence(0, len(sentence)), Span(start, start + len(mark)), score)


TROOPS_OLD = "Officials said about 10,000 troops were deployed."
TROOPS_NEW = "Officials said about 11,000 troops were deployed."


def test_an_undated_report_is_not_taken_for_the_newest():
    """Its date added (today) says nothing about when it was written."""
    dated = _citation(1, TROOPS_OLD, "10,000", 1, date(2024, 10, 20), 0.9)
    undated = _citation(2, TROOPS_NEW, "11,000", 2, None, 0.85)
    assert newest_first([dated, undated]) == [dated, undated]
    assert newest_first([undated, dated]) == [undated, dated]


def test_disagreeing_figures_list_dated_reports_before_undated_ones():
    undated = _citation(1, TROOPS_NEW, "11,000", 1, None)
    dated = _citation(2, TROOPS_OLD, "10,000", 2, date(2024, 10, 20))
    (conflict,) = conflicting_figures([undated, dated])
    assert conflict.values == ("10,000", "11,000") and conflict.citations == (2, 1)


def test_a_duration_is_not_set_against_a_sum():
    """The edited copy case: "six" of "six months" is no third figure beside £1,500/£1,400."""
    citations = [
        _citation(1, "Maternity pay is to rise by £1,500 under the plan.", "£1,500", 2, None),
        _citation(2, "Maternity pay is to rise by £1,400 under the plan.", "£1,400", 1, None),
        _citation(
            3, "Pay goes from the six months where it is now, the extra £1,500.", "six", 2, None
        ),
    ]
    (conflict,) = conflicting_figures(citations)
    assert conflict.values == ("£1,500", "£1,400") and conflict.citations == (1, 2)


def test_counts_of_different_things_do_not_disagree():
    troops = _citation(1, "About 15,000 troops were sent to the region.", "15,000", 1, None)
    residents = _citation(2, "About 12,000 residents left the region.", "12,000", 2, None)
    assert conflicting_figures([troops, residents]) == ()
    more = _citation(2, "About 12,000 North Korean troops were sent there.", "12,000", 2, None)
    assert conflicting_figures([troops, more])[0].values == ("15,000", "12,000")
    bare = _citation(1, "About 11,000 were sent, officials said.", "11,000", 3, None)
    (conflict,) = conflicting_figures([bare, troops, residents])
    assert conflict.values == ("11,000", "15,000")  # the residents are not counted with them


def test_sums_in_different_currencies_or_a_sum_and_a_share_do_not_disagree():
    pounds = _citation(1, "The fund grew by £2 million this year.", "£2 million", 1, None)
    dollars = _citation(2, "The fund grew by $3 million this year.", "$3 million", 2, None)
    share = _citation(2, "The fund grew by 4 percent this year.", "4 percent", 2, None)
    assert conflicting_figures([pounds, dollars]) == ()
    assert conflicting_figures([pounds, share]) == ()
