"""Discord rendering: any answer and any passages stay within Discord's limits, show no live
mention and no unescaped markdown from the articles, and trim at sentence or word borders."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime

import discord
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import render
from bot.answer.models import Answer, Citation
from bot.chat import embeds
from bot.cli import terminal
from index.models import AddOutcome, Article, Passage, Sentence, Span
from tests.bot.chat.helpers import embed_problems

# Generated answers are big on purpose; a shared CI machine must not turn that into a failure.
SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]
LIVE_MENTION = re.compile(r"@(everyone|here)|<@[!&]?\d{17,20}>")
NASTY = st.sampled_from(
    [
        "@everyone",
        "@here",
        "<@123456789012345678>",
        "<@&123456789012345678>",
        "**bold**",
        "__u__",
        "`code`",
        "||spoiler||",
        "> quote",
        "[link](https://evil.example)",
        "\u00e9t\u00e9 \u4e2d\u6587 \U0001f600",
        ". ",
        "\n",
        "x" * 300,
    ]
)
TEXT = st.lists(st.one_of(st.text(max_size=60), NASTY), max_size=40).map("".join)


def article(title: str, source: str | None, url: str | None, n: int = 1) -> Article:
    return Article(
        id=n,
        collection="guild-1",
        title=title or "untitled",
        source=source,
        url=url,
        published=date(2026, 11, 2),
        added_at=datetime(2026, 11, 27, tzinfo=UTC),
        content_hash="h",
        chunk_count=3,
    )


@st.composite
def citations(draw, n: int) -> Citation:
    text = draw(TEXT) or "x"
    start = draw(st.integers(0, 5000))
    s0 = draw(st.integers(0, len(text)))
    s1 = draw(st.integers(s0, len(text)))
    h0 = draw(st.integers(s0, s1))
    h1 = draw(st.integers(h0, s1))
    answers = draw(st.booleans())
    passage = Passage(
        chunk_id=n,
        article=article(
            draw(TEXT), draw(st.none() | TEXT), draw(st.none() | st.just("https://x.org/a") | TEXT)
        ),
        text=text,
        start=start,
        end=start + len(text),
        sentences=(Sentence(start + s0, start + s1),),
        score=0.5,
    )
    return Citation(
        n=n,
        passage=passage,
        sentence=Sentence(start + s0, start + s1) if draw(st.booleans()) else None,
        highlight=Span(start + h0, start + h1) if h1 > h0 else None,
        score=0.5,
        answers=answers,
    )


@st.composite
def answers(draw) -> Answer:
    count = draw(st.integers(0, 8))
    return Answer(
        question=draw(TEXT),
        text=draw(TEXT),
        abstained=draw(st.booleans()),
        citations=tuple(draw(citations(i + 1)) for i in range(count)),
        mode=draw(st.sampled_from(["extractive", "llm"])),
        as_of=draw(st.none() | st.just(date(2026, 11, 2))),
        as_of_source=draw(st.none() | TEXT),
        added=draw(st.none() | st.just(date(2026, 11, 29))),
        fallback_reason=draw(st.none() | TEXT),
        timings_ms={"total": 12.0},
    )


def strings(embed: discord.Embed) -> list[str]:
    data = embed.to_dict()
    out = [data.get("title", ""), data.get("description", ""), data["footer"]["text"]]
    for field in data.get("fields", []):
        out += [field["name"], field["value"]]
    return out


@settings(max_examples=100, deadline=None, suppress_health_check=SLOW_OK)
@given(answers(), st.none() | TEXT)
def test_answer_embed_respects_every_limit_and_has_no_live_mention(answer, read_as):
    embed = embeds.answer_embed(answer, read_as)
    assert embed_problems(embed) == []
    assert len(embed.fields) <= embeds.DISCORD_CITATIONS
    for text in strings(embed):
        assert not LIVE_MENTION.search(text)


@pytest.mark.parametrize("title", ["\r", " \n\t "])
def test_a_title_of_only_line_breaks_still_names_its_field(title):
    passage = Passage(
        chunk_id=1,
        article=article(title, None, None),
        text="x",
        start=0,
        end=1,
        sentences=(Sentence(0, 1),),
        score=0.5,
    )
    cited = Answer(
        question="q",
        text="x",
        abstained=False,
        citations=(Citation(n=1, passage=passage, sentence=None, highlight=None, score=0.5),),
        mode="extractive",
        timings_ms={"total": 1.0},
    )
    for embed in (embeds.answer_embed(cited), embeds.sources_embed(render.answer_json(cited))):
        assert embed_problems(embed) == []
        assert "untitled" in embed.fields[0].name


@settings(max_examples=100, deadline=None, suppress_health_check=SLOW_OK)
@given(answers())
def test_sources_embed_respects_every_limit(answer):
    embed = embeds.sources_embed(render.answer_json(answer))
    assert embed_problems(embed) == []
    for text in strings(embed) if embed.footer.text else [embed.description or ""]:
        assert not LIVE_MENTION.search(text)
    for field in embed.to_dict().get("fields", []):
        assert not LIVE_MENTION.search(field["value"])


@settings(max_examples=100, deadline=None, suppress_health_check=SLOW_OK)
@given(
    TEXT,
    TEXT,
    st.none() | TEXT,
    st.sampled_from(["added", "replaced", "unchanged", "failed"]),
    st.none() | TEXT,
)
def test_outcome_message_fits_one_message(title, source, error, status, note):
    a = None if status == "failed" else article(title, source, "https://x.org/a")
    message = embeds.outcome_message(AddOutcome(status, "pasted text", a, error, note))
    assert 0 < len(message) <= embeds.MESSAGE_CHARS
    assert not LIVE_MENTION.search(message)


@given(st.lists(st.tuples(TEXT, TEXT), max_size=10), st.integers(0, 50))
@settings(max_examples=60, deadline=None, suppress_health_check=SLOW_OK)
def test_article_list_page_fits(rows, page):
    items = [article(t, s, None, i) for i, (t, s) in enumerate(rows)]
    embed = embeds.article_list_embed(items, page, 51, 500)
    assert embed_problems(embed) == []
    assert not LIVE_MENTION.search(embed.description or "")


@given(TEXT, st.integers(1, 3000))
@settings(deadline=None, suppress_health_check=SLOW_OK)
def test_trim_stays_within_the_limit_and_keeps_a_prefix(text, limit):
    out = embeds.trim(text, limit)
    assert len(out) <= limit
    if len(text) <= limit:
        assert out == text
    else:
        assert out.endswith(embeds.ELLIPSIS)
        assert text.startswith(out.rstrip(embeds.ELLIPSIS).rstrip())


def test_trim_cuts_at_a_sentence_end_then_a_word_border():
    text = "The first sentence is here. The second one is much longer and goes on and on."
    assert embeds.trim(text, 40) == "The first sentence is here. \u2026"
    assert embeds.trim("alpha beta gamma delta", 15) == "alpha beta \u2026"


def test_quoted_markdown_and_mentions_are_escaped():
    c = Citation(
        n=1,
        passage=Passage(
            1,
            article("T", "S", None),
            "Ping @everyone now. **Not bold** here.",
            0,
            38,
            (Sentence(0, 19),),
            0.9,
        ),
        sentence=Sentence(0, 19),
        highlight=Span(5, 14),
        score=0.9,
    )
    embed = embeds.answer_embed(Answer("q?", "Ping @everyone now.", False, (c,)))
    assert embed.description.startswith("Ping **@\u200beveryone** now. [1]")
    assert "\\*\\*Not bold\\*\\*" in embed.fields[0].value


def test_abstention_says_so_and_marks_passages_as_not_answering():
    c = Citation(
        1,
        Passage(1, article("T", "S", None), "Some text.", 0, 10, (Sentence(0, 10),), 0.1),
        Sentence(0, 10),
        None,
        0.1,
        answers=False,
    )
    answer = Answer("q?", "The articles do not say.", True, (c,))
    embed = embeds.answer_embed(answer)
    assert embed.description.startswith("The articles do not say.")
    assert "do **not** answer" in embed.description
    assert embed.fields[0].name.endswith("(not an answer)")


def test_related_passages_after_an_answer_are_marked_related_not_highlighted():
    def cite(n: int, answers: bool) -> Citation:
        text = "About 15,000 residents left."
        return Citation(
            n,
            Passage(n, article(f"T{n}", "S", None, n), text, 0, len(text), (Sentence(0, 28),), 0.5),
            Sentence(0, 28),
            Span(6, 12) if answers else None,
            0.5,
            answers=answers,
        )

    answer = Answer("q?", "About 15,000 residents left.", False, (cite(1, True), cite(2, False)))
    embed = embeds.answer_embed(answer)
    assert not embed.fields[0].name.endswith(")")
    assert embed.fields[1].name.endswith("(related)")
    assert "**15,000**" in embed.fields[0].value and "**" not in embed.fields[1].value
    sources = embeds.sources_embed(render.answer_json(answer))
    assert [f.name.endswith("(related)") for f in sources.fields] == [False, True]
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(terminal.answer_rich(answer))
    text = console.export_text()
    assert text.index("T1 - S") < text.index("Also related") < text.index("T2 - S")


def test_an_undated_answer_says_date_unknown_and_when_it_was_added_not_as_of():
    """The day an article was added is no publication date: a 2024 wire story must not read
    "As of 29 Nov 2026"."""
    text = "At least 11,000 troops were deployed."
    c = Citation(
        1,
        Passage(1, article("T", "Yonhap", None), text, 0, len(text), (Sentence(0, 37),), 0.9),
        Sentence(0, 37),
        Span(9, 15),
        0.9,
    )
    undated = Answer(
        "q?", text, False, (c,), as_of=None, as_of_source="Yonhap_News", added=date(2026, 11, 29)
    )
    description = embeds.answer_embed(undated).description
    assert "*Date unknown, added 29 Nov 2026, Yonhap\\_News*" in description
    assert "As of" not in description
    dated = replace(undated, as_of=date(2024, 10, 30))
    assert "*As of 30 Oct 2024, Yonhap\\_News*" in embeds.answer_embed(dated).description
