"""The kind of a marked figure (money, percentage, duration, year, count of what), and the
evidence span a number question marks: a figure of the kind it asks for."""

import pytest

from bot.answer.extractive import highlight
from bot.answer.qtypes import QType
from bot.answer.quantities import Kind, Quantity, quantity_at, wanted_kinds


def kind_of(sentence: str, figure: str) -> Quantity:
    start = sentence.index(figure)
    return quantity_at(sentence, start, start + len(figure))


@pytest.mark.parametrize(
    ("sentence", "figure", "expected"),
    [
        ("Pay is to rise by £1,400 next year.", "£1,400", Quantity(Kind.MONEY, "GBP")),
        ("The deal is worth $1.2 billion.", "$1.2 billion", Quantity(Kind.MONEY, "USD")),
        ("They paid 300 euros each.", "300", Quantity(Kind.MONEY, "EUR")),
        ("Inflation slowed to 2.9 percent.", "2.9 percent", Quantity(Kind.PERCENT)),
        ("Turnout was 61%.", "61%", Quantity(Kind.PERCENT)),
        ("Pay runs for six months now.", "six", Quantity(Kind.DURATION, "month")),
        ("A 48-hour strike began.", "48-hour", Quantity(Kind.DURATION, "hour")),
        (
            "It was built three hundred years ago.",
            "three hundred years",
            Quantity(Kind.DURATION, "year"),
        ),
        ("The law passed in 2007.", "2007", Quantity(Kind.YEAR)),
        ("It rises by 2007, Ms Hewitt told reporters.", "2007", Quantity(Kind.YEAR)),
        ("The route is about 2000 kilometres long.", "2000", Quantity(Kind.COUNT, "kilometre")),
        ("About 11,000 North Korean troops arrived.", "11,000", Quantity(Kind.COUNT, "troop")),
        ("Some 2 million new homes are planned.", "2", Quantity(Kind.COUNT, "home")),
        ("Up from 12,000 a day earlier.", "12,000", Quantity(Kind.COUNT)),
        ("Only six of those months were paid.", "six", Quantity(Kind.COUNT)),
    ],
)
def test_the_kind_of_a_figure_is_read_from_it_and_the_words_after_it(sentence, figure, expected):
    assert kind_of(sentence, figure) == expected


def test_like_is_compared_with_like_and_an_unknown_unit_with_any():
    troops, residents = Quantity(Kind.COUNT, "troop"), Quantity(Kind.COUNT, "resident")
    assert not troops.comparable(residents)
    assert troops.comparable(Quantity(Kind.COUNT)) and troops.comparable(troops)
    assert not Quantity(Kind.MONEY, "GBP").comparable(Quantity(Kind.DURATION, "month"))
    assert not Quantity(Kind.MONEY, "GBP").comparable(Quantity(Kind.MONEY, "USD"))


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("How much will maternity pay rise by?", {Kind.MONEY, Kind.PERCENT}),
        ("What is the cost of the new bridge?", {Kind.MONEY, Kind.PERCENT}),
        ("How long will the strike last?", {Kind.DURATION}),
        ("How many months of leave are paid?", {Kind.DURATION}),
        ("How many sunny days does the city average?", {Kind.DURATION}),
        ("What percentage of voters turned out?", {Kind.PERCENT}),
        ("How many troops were deployed?", {Kind.COUNT}),
        ("How much did the river rise?", {Kind.MONEY, Kind.PERCENT, Kind.COUNT}),
        ("How far is the border?", None),
        ("How much older was Sand than Chopin?", {Kind.DURATION}),
        ("How many day did filming take?", {Kind.DURATION}),
        ("In kilometers, how long is the ferry route?", None),
    ],
)
def test_the_question_says_which_kinds_answer_it(question, kinds):
    wanted = wanted_kinds(question)
    assert (set(wanted) if wanted is not None else None) == kinds


def test_a_sum_is_marked_for_how_much_not_the_duration_beside_it():
    sentence = (
        "We will extend maternity pay from the six months where it is now, that's the extra £1,500."
    )
    span = highlight(sentence, "How much will maternity pay rise by?", QType.NUMBER)
    assert span is not None and sentence[span.start : span.end] == "£1,500"


def test_a_duration_alone_is_not_marked_as_a_sum():
    sentence = "Her party would boost maternity pay in the first six months."
    assert highlight(sentence, "How much will maternity pay rise by?", QType.NUMBER) is None


def test_a_duration_is_still_marked_when_the_question_asks_how_long():
    sentence = "The union said the strike by 3,400 members would last 48 hours."
    span = highlight(sentence, "How long will the strike last?", QType.NUMBER)
    assert span is not None and sentence[span.start : span.end] == "48 hours"
