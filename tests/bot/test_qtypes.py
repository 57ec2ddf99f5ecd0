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


def test_ranges_are_one_answer():
    assert _texts("An estimated 75,000 to 100,000 people fled.", QType.NUMBER) == [
        "75,000 to 100,000"
    ]
    assert _texts("Prices rose 10-12 percent; between 5 and 10 died.", QType.NUMBER) == [
        "10-12 percent",
        "between 5 and 10",
    ]
    # A list of two figures is not a range; years stay out of counts.
    assert _texts("In 2003 and 2004 they scored 3 and 4.", QType.NUMBER) == ["3", "4"]
    assert _texts("The palace was rebuilt in 1775–1795.", QType.DATE) == ["1775–1795"]


def test_names_keep_particles_and_abbreviations_but_not_openers():
    assert _texts("Paul Marin de la Malgue took command.", QType.PERSON) == [
        "Paul Marin de la Malgue"
    ]
    assert _texts("They worked the St. Lawrence valley.", QType.PLACE) == ["St. Lawrence"]
    found = _texts("Since September 2004 it has met at Holyrood on Thursdays.", QType.PLACE)
    assert found == ["Holyrood"]


def test_measures_keep_their_unit():
    from bot.answer.extractive import highlight

    def marked(sentence, question):
        span = highlight(sentence, question, classify(question))
        return sentence[span.start : span.end]

    assert marked("It took nearly three hundred years.", "How long did it take?") == (
        "three hundred years"
    )
    assert marked("The town is 12 km from the border.", "How far is the town?") == "12 km"
    assert marked("The strike involved 48 workers.", "How many workers struck?") == "48"
