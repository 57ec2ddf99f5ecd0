"""Citations are shown by article: one heading (title, source, date) per article and its
numbered passages beneath, in the terminal and in Discord; quotes of several paragraphs stay
indented. The JSON keeps its flat list."""

from __future__ import annotations

from datetime import UTC, date, datetime

from rich.console import Console

from bot import render
from bot.answer.models import Answer, Citation
from bot.chat import embeds
from bot.cli.terminal import answer_rich
from index.models import Article, Passage, Sentence, Span
from tests.bot.chat.helpers import embed_problems

LONG_TITLE = "Harbour authority confirms the night ferry will stop at the island pier from March"


def article(n: int, title: str) -> Article:
    return Article(
        id=n,
        collection="default",
        title=title,
        source="Coast Courier",
        url=f"https://example.org/{n}",
        published=date(2026, 11, n),
        added_at=datetime(2026, 11, 27, tzinfo=UTC),
        content_hash=f"h{n}",
        chunk_count=5,
    )


def cite(n: int, a: Article, text: str, answers: bool = True) -> Citation:
    start = 1000 * n
    end = start + len(text)
    first = text.find(".") + 1 or len(text)
    return Citation(
        n,
        Passage(n, a, text, start, end, (Sentence(start, start + first),), 0.5),
        Sentence(start, start + first),
        Span(start, start + 5) if answers else None,
        0.5,
        answers=answers,
    )


def one_article_answer() -> Answer:
    seed = article(1, LONG_TITLE)
    citations = tuple(
        cite(n, seed, f"Passage number {n} of the ferry story. It says more.", answers=n <= 2)
        for n in range(1, 6)
    )
    return Answer("When will the ferry stop?", "Passage number 1 of the ferry story.", False,
                  citations)  # fmt: skip


def two_article_answer() -> Answer:
    first, second = article(1, "Ferry to stop at island"), article(2, "Pier rebuilt")
    citations = (
        cite(1, first, "The ferry will stop at the pier. From March."),
        cite(2, second, "The pier was rebuilt in 2025. It cost a lot."),
        cite(3, first, "Tickets go on sale in February. Prices are unchanged."),
    )
    return Answer("When?", "The ferry will stop at the pier.", False, citations)


def terminal(answer: Answer, width: int = 200, piped: bool = False) -> str:
    console = Console(width=width, record=True, force_terminal=not piped, color_system=None)
    console.soft_wrap = piped
    console.print(answer_rich(answer))
    return console.export_text()


def test_passages_of_one_article_come_under_one_heading_in_the_terminal():
    text = terminal(one_article_answer())
    assert text.count(LONG_TITLE) == 1
    assert f"{LONG_TITLE} - Coast Courier, 1 Nov 2026" in text
    assert text.count("https://example.org/1") == 1
    lines = text.splitlines()
    numbered = [line for line in lines if line.lstrip().startswith("[")]
    assert [line.split()[0] for line in numbered] == ["[1]", "[2]", "[3]", "[4]", "[5]"]
    assert numbered[0].startswith("    [1] \u201cPassage number 1")
    # the passages that are not evidence are marked inside the article that has evidence
    assert "[3] (related) \u201cPassage number 3" in text and "(related)" not in numbered[1]
    assert "Also related" not in text


def test_two_articles_show_two_headings_with_their_own_passages_beneath():
    text = terminal(two_article_answer())
    assert text.count("Ferry to stop at island") == 1 and text.count("Pier rebuilt") == 1
    first, second = text.index("Ferry to stop at island"), text.index("Pier rebuilt")
    # [3] is from the first article: under its heading, before the second one; numbers unchanged
    assert first < text.index("[1] \u201cThe ferry") < text.index("[3] \u201cTickets") < second
    assert second < text.index("[2] \u201cThe pier was rebuilt")


def test_discord_shows_one_field_per_article_with_numbered_passages():
    embed = embeds.answer_embed(one_article_answer())
    assert embed_problems(embed) == []
    assert [f.name for f in embed.fields] == [LONG_TITLE]
    value = embed.fields[0].value
    assert value.splitlines()[0].startswith("Coast Courier \u00b7 1 Nov 2026 \u00b7 [link](")
    quotes = value.splitlines()[1:]
    assert [q.split()[1] for q in quotes] == ["[1]", "[2]", "[3]", "[4]", "[5]"]
    assert quotes[0].startswith("> [1] **Passa**ge number 1")
    assert quotes[2].startswith("> [3] (related) Passage number 3")

    two = embeds.answer_embed(two_article_answer())
    assert [f.name for f in two.fields] == ["Ferry to stop at island", "Pier rebuilt"]
    assert [q.split()[1] for q in two.fields[0].value.splitlines()[1:]] == ["[1]", "[3]"]
    assert [q.split()[1] for q in two.fields[1].value.splitlines()[1:]] == ["[2]"]
    assert "2 Nov 2026" in two.fields[1].value


def test_an_article_that_is_only_related_reading_is_marked_so_as_a_whole():
    main, other = article(1, "Main story"), article(2, "Side story")
    answer = Answer(
        "q?",
        "The ferry will stop.",
        False,
        (cite(1, main, "The ferry will stop."), cite(2, other, "Other news.", answers=False)),
    )
    embed = embeds.answer_embed(answer)
    assert [f.name for f in embed.fields] == ["Main story", "Side story (related)"]
    assert "(related)" not in embed.fields[1].value
    text = terminal(answer)
    assert text.index("Main story") < text.index("Also related") < text.index("Side story")


def test_json_keeps_one_flat_citation_per_passage():
    data = render.answer_json(two_article_answer())
    assert [(c["n"], c["article_id"]) for c in data["citations"]] == [(1, 1), (2, 2), (3, 1)]


def test_a_quote_of_several_paragraphs_keeps_its_continuation_lines_indented():
    a = article(1, "Ferry")
    text = "The ferry will stop at the pier.\n\nTickets go on sale in February.\nPrices stay."
    answer = Answer("q?", "The ferry will stop at the pier.", False, (cite(1, a, text),))
    piped = terminal(answer, piped=True).splitlines()
    start = piped.index("    [1] \u201cThe ferry will stop at the pier.")
    assert piped[start + 1 : start + 3] == [
        "        Tickets go on sale in February.",
        "        Prices stay.\u201d",
    ]
    # in a narrow terminal the wrapped lines start under the quote too, never at column 0
    narrow = terminal(answer, width=24).splitlines()
    quote = narrow[narrow.index("    [1] \u201cThe ferry will") :]
    assert quote[1].startswith("        stop") and len(quote) > 4
    assert all(line.startswith("        ") for line in quote[1:5])


def test_the_sources_button_names_an_article_once_and_shows_every_full_passage():
    answer = two_article_answer()
    embed = embeds.sources_embed(render.answer_json(answer))
    assert embed_problems(embed) == []
    names = [f.name for f in embed.fields]
    assert names == ["[1] Ferry to stop at island", "[2] Pier rebuilt", "[3] same article as [1]"]
    assert embed.fields[2].value == "Tickets go on sale in February. Prices are unchanged."
