"""The reader's training: its data rules, and a smoke run (a few steps on 50 pairs, then the
same export the shipped model went through) so the script cannot rot."""

import json
import random
import re

import numpy as np
import pytest

from bot.answer.reader import SentenceReader
from tests.conftest import SHARED, needs_shared
from training import reader_data
from training.reader_data import build_pairs, check_disjoint, perturb

TRAIN = SHARED / "bench" / "squad2-train10.json"

ARTICLE = {
    "title": "Korea",
    "paragraphs": [
        {
            "context": "Seoul sent 1,200 South Korean troops to the border in 2024. "
            "The ministry said the deployment would last a year. Officials in Seoul declined "
            "to comment further.",
            "qas": [
                {
                    "id": "a",
                    "question": "How many South Korean troops were sent in 2024?",
                    "answers": [{"text": "1,200", "answer_start": 11}],
                    "is_impossible": False,
                },
                {
                    "id": "b",
                    "question": "How many Japanese troops were sent?",
                    "answers": [],
                    "plausible_answers": [{"text": "1,200", "answer_start": 11}],
                    "is_impossible": True,
                },
            ],
        },
        {
            "context": "Pyongyang sent North Korean troops to Russia. Analysts said the "
            "troops were sent in secret.",
            "qas": [],
        },
    ],
}


def test_pairs_label_the_answer_sentence_and_its_hard_negatives():
    pairs = build_pairs([ARTICLE], seed=1)
    by_kind = {}
    for p in pairs:
        by_kind.setdefault(p.kind, []).append(p)
    gold = by_kind["gold"][0]
    assert gold.label == 1 and "1,200" in gold.candidate.sentence
    assert gold.candidate.title == "Korea" and gold.candidate.previous == ""
    assert all(p.label == 0 for k, ps in by_kind.items() if k != "gold" for p in ps)
    assert "1,200" in by_kind["plausible"][0].candidate.sentence
    other = ARTICLE["paragraphs"][1]["context"]
    assert all(p.candidate.sentence in other for p in by_kind["article"])
    second = next(p for p in by_kind["paragraph"] if "ministry" in p.candidate.sentence)
    assert second.candidate.previous.startswith("Seoul sent")


def test_a_swapped_question_no_longer_matches_its_paragraph():
    vocab = reader_data._Vocabulary([ARTICLE])
    paragraph = ARTICLE["paragraphs"][0]["context"]
    question = "How many South Korean troops were sent in 2024?"
    seen = set()
    for seed in range(40):
        result = perturb(question, paragraph, vocab, random.Random(seed))
        if result is None:  # the drawn kind of change had nothing safe to swap in
            continue
        changed, what = result
        seen.add(what)
        assert changed != question
        if what == "number":
            assert "2024" not in changed
        if what == "name":
            new = set(changed.split()) - set(question.split())
            assert new and all(w.lower() not in paragraph.lower() for w in new)
    assert {"name", "number"} <= seen


def test_training_data_sharing_an_article_with_a_benchmark_is_refused(tmp_path):
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"data": [ARTICLE]}))
    with pytest.raises(ValueError, match="shares the article"):
        check_disjoint([ARTICLE], [bench])
    renamed = dict(ARTICLE, title="Another title")
    with pytest.raises(ValueError, match="shares a paragraph"):
        check_disjoint([renamed], [bench])
    check_disjoint([ARTICLE], [tmp_path / "absent.json"])


def test_the_shipped_training_data_shares_nothing_with_the_benchmark():
    needs_shared(TRAIN)
    check_disjoint(reader_data.load_articles(TRAIN), reader_data.BENCH_PATHS)


@pytest.mark.slow
def test_smoke_training_run_exports_a_loadable_model(tmp_path, capsys):
    needs_shared(TRAIN)
    from training.train_reader import main

    out = tmp_path / "reader"
    mining = ["--mined-negatives", "1", "--mined-swaps", "1"]
    assert main(["--smoke", "--out", str(out), "--threads", "1", *mining]) == 0
    printed = capsys.readouterr().out
    assert "held-out figures (shipped int8 ONNX)" in printed
    mined = re.search(r"^mined: (\d+) pairs, mined \d+, mined:swap (\d+)", printed, re.MULTILINE)
    assert mined and int(mined.group(1)) > 0 and int(mined.group(2)) > 0
    reader = SentenceReader(out)
    reader.load()
    card = json.loads((out / "reader.json").read_text())
    assert card["trained"] == (
        f"python -m training.train_reader --smoke --out {out} --threads 1 --mined-negatives 1 "
        "--mined-swaps 1"
    )
    assert np.isfinite(reader.logits("Who?", [reader_data.ReaderInput("Kim did.")])).all()


def test_answer_sentences_carry_where_the_answer_lies_in_them():
    pairs = build_pairs([ARTICLE], seed=1)
    gold = next(p for p in pairs if p.kind == "gold")
    assert gold.answer is not None
    start, end = gold.answer
    assert gold.candidate.sentence[start:end] == "1,200"
    assert all(p.answer is None for p in pairs if p.kind != "gold")


@pytest.mark.slow
def test_smoke_span_run_adds_a_span_head_and_keeps_every_sentence_score(tmp_path, capsys):
    needs_shared(TRAIN)
    from bot.answer.reader import ReaderInput
    from training.train_span import main

    out = tmp_path / "reader"
    assert main(["--smoke", "--out", str(out), "--threads", "1"]) == 0
    assert "held-out figures (shipped int8 ONNX)" in capsys.readouterr().out
    card = json.loads((out / "reader.json").read_text())
    assert card["span_trained"] == f"python -m training.train_span --smoke --out {out} --threads 1"
    items = [ReaderInput("Kim signed the deal on Monday."), ReaderInput("It rained.")]
    with_spans, shipped = SentenceReader(out), SentenceReader()
    reading = with_spans.read("Who signed the deal?", items)
    assert reading.spans([0])[0] is not None
    np.testing.assert_allclose(
        with_spans.logits("Who signed the deal?", items),
        shipped.logits("Who signed the deal?", items),
    )


def test_mined_negatives_are_what_the_shortlist_offers_minus_any_answer():
    from tests.conftest import HashingEmbedder
    from training.mined_pairs import mined_pairs

    known = {("How many South Korean troops were sent in 2024?", "Already a pair.")}
    pairs = mined_pairs([ARTICLE], 2, known, embedder=HashingEmbedder())
    assert pairs and all(p.label == 0 and p.kind == "mined" for p in pairs)
    assert all(p.candidate.title == "Korea" for p in pairs)
    answerable = [p for p in pairs if p.question.startswith("How many South Korean")]
    unanswerable = [p for p in pairs if p.question.startswith("How many Japanese")]
    assert 1 <= len(answerable) <= 2  # capped per answerable question
    assert all("1,200" not in p.candidate.sentence for p in answerable)  # the answer is no negative
    # An unanswerable question: every sentence it was shown is a negative, the plausible one too.
    assert any("1,200" in p.candidate.sentence for p in unanswerable)
    assert len(unanswerable) > len(answerable)
    sentences = {p.candidate.sentence for p in pairs}
    assert "Pyongyang sent North Korean troops to Russia." in sentences  # another paragraph
    assert len({(p.question, p.candidate.sentence) for p in pairs}) == len(pairs)


def test_swapped_questions_mine_what_they_are_shown_but_not_what_names_the_swap():
    from tests.conftest import HashingEmbedder
    from training.mined_pairs import mined_pairs
    from training.reader_data import Pair, ReaderInput

    answer = ReaderInput("Seoul sent 1,200 South Korean troops to the border in 2024.", "Korea")
    # "Russia" is what the swap put in: the sentence naming it might answer the new question.
    swap = Pair("How many Russia troops were sent in 2024?", answer, 0, "swap:name", "Korea")
    known = {(swap.question, answer.sentence)}  # the swap pair itself
    pairs = mined_pairs([ARTICLE], 0, known, embedder=HashingEmbedder(), swaps=[swap], per_swap=3)
    swapped = [p for p in pairs if p.kind == "mined:swap"]
    assert swapped and len(swapped) <= 3
    assert all(p.question == swap.question and p.label == 0 for p in swapped)
    assert all("Russia" not in p.candidate.sentence for p in swapped)
    assert answer.sentence not in {p.candidate.sentence for p in swapped}  # already known
    # No answerable question was mined (0 per question); the unanswerable one still was.
    assert {p.question for p in pairs if p.kind == "mined"} == {
        "How many Japanese troops were sent?"
    }
    unasked = mined_pairs([ARTICLE], 0, set(), embedder=HashingEmbedder(), swaps=[swap])
    assert unasked and all(p.kind == "mined" for p in unasked)  # per_swap 0: swaps not asked


def test_more_swaps_a_question_are_different_changes_and_one_keeps_the_recipe():
    one = build_pairs([ARTICLE], seed=3)
    assert one == build_pairs([ARTICLE], seed=3, swaps=1)
    swapped = [p for p in build_pairs([ARTICLE], seed=3, swaps=3) if p.kind.startswith("swap:")]
    assert len(swapped) == 3  # one answerable question, three different changes
    assert len({p.question for p in swapped}) == 3
    assert all(p.label == 0 and "1,200" in p.candidate.sentence for p in swapped)


def test_a_slice_of_a_large_training_file_keeps_the_held_out_article():
    articles = [{"title": f"Article_{i}", "paragraphs": []} for i in range(6)]
    articles.insert(4, {"title": "Solar_energy", "paragraphs": []})
    titles = [a["title"] for a in reader_data.first_articles(articles, 2, keep={"Solar energy"})]
    assert titles == ["Article_0", "Article_1", "Solar_energy"]
    assert reader_data.first_articles(articles, None, keep=set()) == articles
    assert [a["title"] for a in reader_data.first_articles(articles, 5, set())][
        -1
    ] == "Solar_energy"
