import pytest

from bot.answer.qtypes import QType, candidates, classify


@pytest.mark.parametrize(
    ("question", "qtype"),
    [
        ("How many troops were deployed?", QType.NUMBER),
        ("How much will maternity pay rise by?", QType.NUMBER),
        ("What is the population of Glasgow?", QType.NUMBER),
        ("When did the strike begin?", QType.DATE),
        ("In what year was it founded?", QType.DATE),
        ("Who claimed responsibility?", QType.PERSON),
        ("Where were the troops sent?", QType.PLACE),
        ("Why did the talks fail?", QType.REASON),
        ("What did the official say?", QType.OTHER),
    ],
)
def test_classify(question, qtype):
    assert classify(question) is qtype


def _texts(sentence, qtype):
    return [c.text for c in candidates(sentence, qtype)]


def test_numbers_with_qualifiers_currency_and_units():
    sentence = (
        "Around 3,400 members joined; the union wants 9 percent, not 5%, and a "
        "£1.5m fund, one of which is new, for nine months."
    )
    assert _texts(sentence, QType.NUMBER) == ["3,400", "9 percent", "5%", "£1.5m", "nine"]


def test_years_are_not_counts_but_are_dates():
    sentence = "In 2007 the pay rose on Nov. 4, 2024 and again last week."
    assert "2007" not in _texts(sentence, QType.NUMBER)
    assert _texts(sentence, QType.DATE) == ["2007", "Nov. 4, 2024", "last week"]


def test_names_skip_sentence_openers_and_months():
    found = _texts(
        "The official said President Yoon Suk Yeol met Zelenskyy in November.", QType.PERSON
    )
    assert "President Yoon Suk Yeol" in found and "Zelenskyy" in found
    assert "The" not in found and "November" not in found
