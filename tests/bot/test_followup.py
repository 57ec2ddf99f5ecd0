"""Follow-up rewriting: pure functions, no Discord."""

import pytest

from bot.answer.followup import looks_like_followup, rewrite_followup, subject_of


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("How many troops were deployed?", "troops"),
        ("Which company was fined?", "company"),
        ("When did the bank raise rates?", "the bank raise rates"),
        ("What is the population of Harlow Ridge?", "the population of Harlow Ridge"),
        ("Who leads the union?", "the union"),
        ("How many members joined the strike?", "members"),
        ("Which company paid the fine?", "company"),
        ("Troops deployed", None),
    ],
)
def test_subject_of(question, subject):
    assert subject_of(question) == subject


def test_pronoun_follow_up_takes_the_earlier_subject():
    assert (
        rewrite_followup("How many troops were deployed?", "and when were they sent?")
        == "When were troops sent?"
    )


def test_what_about_swaps_the_subject():
    assert (
        rewrite_followup("How many troops were deployed?", "what about ships?")
        == "How many ships were deployed?"
    )


def test_possessive_follow_up():
    assert (
        rewrite_followup("Who leads the union?", "what is their main demand?")
        == "What is the union's main demand?"
    )


def test_a_new_question_is_left_alone():
    question = "What interest rate did the Bank of Norland keep in November?"
    assert not looks_like_followup(question)
    assert rewrite_followup("How many troops were deployed?", question) == question


def test_without_a_previous_question_nothing_changes():
    assert rewrite_followup(None, "and when were they sent?") == "and when were they sent?"


def test_no_subject_falls_back_to_the_whole_previous_question():
    rewritten = rewrite_followup("Troops deployed", "and when?")
    assert "Troops deployed" in rewritten and rewritten.lower().startswith("when")
