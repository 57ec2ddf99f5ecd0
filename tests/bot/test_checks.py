"""Checking a written answer: markers, figures, missing citations, abstentions. Pure."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.answer.checks import (
    NOT_ANSWERED,
    check_answer,
    cited_numbers,
    claims_citing,
    figure_spans,
    numbers_in,
    preview,
    remove_invalid_markers,
    renumber,
    split_sentences,
    unsupported_numbers,
)

STRIKE = (
    "Title: Dock workers at Port Calder begin 48-hour strike\nDate: 2026-11-12\n"
    "Text: The Calder Dockers Union said around 3,400 members joined the strike. The union is "
    "asking for a 9 percent pay rise over two years."
)
OPERATOR = "Text: Calder Terminals offered 5 percent and said the strike would delay 40 ships."
FIRE = "Text: About 15,000 residents were under evacuation orders, up from 12,000 a day earlier."
BANK = "Text: The Bank of Norland kept its rate at 4.25 percent, with $1.2 billion in reserves."
OTHER = "Text: Nothing with figures here at all."
PASSAGES = [STRIKE, OPERATOR, FIRE, BANK, OTHER]


def test_a_good_answer_comes_through_unchanged():
    raw = (
        "Around 3,400 members joined the 48-hour strike, the Calder Dockers Union said [1]. "
        "The operator offered 5 percent [2]."
    )
    checked = check_answer(raw, PASSAGES)
    assert checked.text == raw
    assert checked.cited == (1, 2)
    assert checked.problem is None and not checked.abstained
    assert checked.removed_markers == () and checked.dropped_sentences == ()


def test_a_marker_beyond_the_passages_is_removed_and_the_valid_one_kept():
    checked = check_answer("Around 3,400 members joined the strike [1][9].", PASSAGES)
    assert checked.text == "Around 3,400 members joined the strike [1]."
    assert checked.removed_markers == (9,)
    assert checked.cited == (1,)


@pytest.mark.parametrize("marker", ["[0]", "[6]", "[9]", "[12]"])
def test_only_numbers_one_to_n_survive(marker):
    text, removed = remove_invalid_markers(f"Workers walked out {marker}.", 5)
    assert text == "Workers walked out."
    assert removed == (int(marker[1:-1]),)


def test_combined_and_variant_markers_are_understood():
    assert cited_numbers("A [1, 3]. B [2-4]. C [Passage 5]. D [passage 1, 2].") == (1, 3, 2, 4, 5)
    text, removed = remove_invalid_markers("A [1, 7]. B [4-6].", 5)
    assert text == "A [1]. B [4][5]."
    assert removed == (7, 6)


def test_an_invented_figure_drops_its_sentence_only():
    raw = "Around 3,400 members joined [1]. The union wants a 15 percent rise [1]."
    checked = check_answer(raw, PASSAGES)
    assert checked.text == "Around 3,400 members joined [1]."
    assert checked.dropped_sentences == ("The union wants a 15 percent rise [1].",)
    assert checked.problem is None


def test_a_figure_must_be_in_the_passage_that_sentence_cites():
    # 15,000 is real, but in passage 3, not in the strike passage it cites.
    checked = check_answer("About 15,000 people joined the strike [1]. It began [1].", PASSAGES)
    assert checked.dropped_sentences == ("About 15,000 people joined the strike [1].",)
    assert checked.text == "It began [1]."


def test_an_answer_whose_every_figure_is_invented_falls_back():
    checked = check_answer("Around 3,500 members joined the strike [1].", PASSAGES)
    assert checked.problem == "the LLM answer stated figures its sources do not contain"
    assert checked.cited == ()


@pytest.mark.parametrize(
    "raw",
    [
        "Around 3,400 members joined the strike.",
        "Around 3,400 members joined the strike [9].",
        "Around 3,400 members joined the strike [0][7].",
    ],
)
def test_an_answer_with_no_valid_citation_falls_back(raw):
    checked = check_answer(raw, PASSAGES)
    assert checked.problem == "the LLM answer cited no passage"
    assert checked.cited == ()


def test_an_empty_answer_falls_back():
    assert check_answer("  [7] ", PASSAGES).problem == "the LLM returned an empty answer"


@pytest.mark.parametrize(
    "raw",
    [
        NOT_ANSWERED,
        "The passages do not answer this question",
        "The articles don't say how many troops were deployed.",
        "The provided passages do not mention Glasgow's population.",
    ],
)
def test_saying_the_passages_do_not_answer_is_an_abstention(raw):
    checked = check_answer(raw, PASSAGES)
    assert checked.abstained and checked.problem is None
    assert checked.text == NOT_ANSWERED and checked.cited == ()


def test_a_partial_answer_that_notes_a_gap_is_not_an_abstention():
    raw = "The passages do not mention a date, but around 3,400 members joined [1]."
    checked = check_answer(raw, PASSAGES)
    assert not checked.abstained and checked.text == raw


@pytest.mark.parametrize(
    ("answer", "passage"),
    [
        ("3400 members [1].", "around 3,400 members"),
        ("3,400 members [1].", "around 3400 members"),
        ("11\u202f000 troops [1].", "11,000 troops"),
        ("a 9% rise [1].", "a 9 percent rise"),
        ("4.25 percent [1].", "4.25 per cent"),
        ("4.50 percent [1].", "4.5 percent"),
        ("$1.2 billion [1].", "1.2bn dollars"),
        ("1,200,000 people [1].", "1.2 million people"),
        ("3 ships [1].", "three ships"),
        ("on 12 November 2026 [1].", "Date: 2026-11-12"),
        ("a 48-hour strike [1].", "the 48-hour strike"),
        ("the 2nd-busiest port [1].", "the second-busiest port"),
    ],
)
def test_figures_match_across_ways_of_writing_them(answer, passage):
    assert unsupported_numbers(answer, [passage]) == []


@pytest.mark.parametrize(
    ("answer", "passage"),
    [
        ("3,500 members [1].", "around 3,400 members"),
        ("4.3 percent [1].", "4.25 percent"),
        ("34,000 members [1].", "3,400 members"),
        ("1.2 billion [1].", "1.2 million"),
    ],
)
def test_altered_figures_are_caught(answer, passage):
    assert unsupported_numbers(answer, [passage]) != []


def test_figures_from_the_passage_date_count_as_supported():
    # Known looseness: a small number that happens to be the day or month passes.
    assert unsupported_numbers("It began on 12 November [1].", [STRIKE]) == []


def test_marker_digits_are_not_figures():
    assert unsupported_numbers("Workers walked out [4].", ["Workers walked out."]) == []


def test_numbers_in_reads_separators_decimals_and_scales():
    values = numbers_in("3,400 and 4.25% and 1.2 million and twelve")
    assert {Decimal(3400), Decimal("4.25"), Decimal("1.2"), Decimal(1_200_000), Decimal(12)} <= (
        values
    )


def test_sentences_keep_their_trailing_markers_and_decimals():
    text = "The rate is 4.25 percent. [1] Officials said so! [2][3] More to come"
    assert split_sentences(text) == [
        "The rate is 4.25 percent. [1]",
        "Officials said so! [2][3]",
        "More to come",
    ]


def test_paragraphs_survive_checking():
    raw = "Around 3,400 members joined [1].\n\nThe operator offered 5 percent [2]."
    assert check_answer(raw, PASSAGES).text == raw


def test_an_unmarked_sentence_is_checked_against_the_answers_citations():
    ok = check_answer("Around 3,400 joined. The union said so [1].", PASSAGES)
    assert ok.text == "Around 3,400 joined. The union said so [1]."
    bad = check_answer("Around 40 joined. The union said so [1].", PASSAGES)
    assert bad.dropped_sentences == ("Around 40 joined.",)


def test_renumber_and_claims():
    text = "A 5 percent offer [2]. Around 3,400 joined [4][2]."
    assert renumber(text, {2: 1, 4: 2}) == "A 5 percent offer [1]. Around 3,400 joined [2][1]."
    assert claims_citing(text, 4) == ["Around 3,400 joined."]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Around 3,400 ", "Around 3,400"),
        ("Around 3,400 joined [", "Around 3,400 joined"),
        ("Around 3,400 joined [3", "Around 3,400 joined"),
        ("Around 3,400 joined [3]. The operator [9]", "Around 3,400 joined [1]. The operator"),
        ("A [4]. B [2][4].", "A [1]. B [2][1]."),
    ],
)
def test_preview_shows_markers_as_the_final_citations_will_number_them(raw, shown):
    assert preview(raw, 5) == shown


figures = st.integers(min_value=1, max_value=10**7)


@given(figures, st.integers(min_value=1, max_value=5))
def test_any_figure_copied_from_the_cited_passage_passes(value, n):
    passages = [f"Text: passage {i} says nothing." for i in range(1, 6)]
    passages[n - 1] = f"Text: officials counted {value:,} people."
    checked = check_answer(f"Officials counted {value:,} people [{n}].", passages)
    assert checked.problem is None and checked.cited == (n,)


@given(figures, figures)
def test_any_figure_absent_from_the_cited_passage_is_caught(real, claimed):
    if claimed == real:
        return
    passages = [f"Text: officials counted {real:,} people."]
    checked = check_answer(f"Officials counted {claimed:,} people [1].", passages)
    assert checked.problem is not None and checked.cited == ()


def test_figure_spans_mark_where_a_passage_writes_the_figures():
    text = "Around 3,400 members, 1.2 million dollars and 5 ships."
    spans = figure_spans(text, {Decimal(3400), Decimal(1_200_000)})
    assert [text[a:b] for a, b in spans] == ["3,400", "1.2 million"]
