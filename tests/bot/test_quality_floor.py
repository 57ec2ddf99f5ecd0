"""A short sample of the quality benchmark, with the real model: a loose floor that catches a
broken answer engine (not a tuning target; the full figures live in docs/BENCHMARKS.md)."""

import pytest

from benchmarks.news import CORPORA, run_news_check
from benchmarks.quality import Report, abstains, briefbot_predict, build_briefbot, score
from benchmarks.squad import DEFAULT_PATH, load
from bot.service import abstain_threshold
from bot.settings import Settings
from tests.conftest import needs_shared

pytestmark = pytest.mark.slow


def test_one_article_sample_stays_above_a_floor(tmp_path, real_embedder):
    needs_shared(DEFAULT_PATH)
    articles, questions = load(DEFAULT_PATH)
    article = articles[0]
    sample = [q for q in questions if q.article == article.title][:120]
    app = build_briefbot([article], tmp_path / "squad", real_embedder)
    # The index runs with threshold 0 so every confidence is seen; judge at the product default.
    report = Report("Briefbot", default_threshold=abstain_threshold(Settings()))
    predict = briefbot_predict(app)
    for q in sample:
        report.predictions[q.id] = predict(q.question)
    row = score(report, sample)
    assert row["n"] >= 40
    assert row["hit@1"] >= 0.70, row
    assert row["hit@5"] >= 0.85, row
    assert row["accuracy"] >= 0.55, row
    assert row["false_abstain"] <= 0.25, row
    # Answers whose marked span is exactly the answer: 22 with the reader's span head (38
    # marked), 17 with the span rules alone (33): a head that stopped working shows here.
    assert round(row["span_em"] * row["span_n"]) >= 20, row
    off = [
        predict(q)
        for q in ("What is the boiling point of ethanol?", "How many moons does Neptune have?")
    ]
    assert all(abstains(p, report.default_threshold) for p in off)


def test_news_check_stays_above_a_floor(real_embedder):
    """Real news (../shared/corpora) and hand-written questions: most answered right, most
    questions about stories nobody added abstained on (measured with the trained reader:
    16/20 right, 18/20 cited first, 22/30 declined; with the rules: 16, 19, 21)."""
    needs_shared(CORPORA / "bbc-politics")
    result = run_news_check(embedder=real_embedder)
    assert result is not None
    assert result.answered_right >= 15, result.misses
    assert result.cited_first >= 17, result.misses
    assert result.off_abstained >= 20, result.misses
