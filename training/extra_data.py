"""More question-answering data for the reader, beyond the ten SQuAD articles in ../shared.

Why: ten Wikipedia articles teach the reader one writing style and one kind of question. These
sources are public, licence-compatible with shipping derived weights (CC BY 4.0, Apache 2.0) and
share no article with the benchmark (checked by `reader_data.check_disjoint` before training).
None of them has unanswerable questions; the synthetic swaps of `reader_data` make those.

Nothing is downloaded here: the training command reads the files from a folder the user fills
with `git` (the commands are in docs/READER.md), and refuses a file whose checksum differs, so a
retraining uses exactly the data the shipped model was made from.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ExtraSource:
    name: str
    file: str  # the file's name inside the extra-data folder
    repository: str
    commit: str
    path: str  # inside the repository
    sha256: str
    licence: str
    convert: Callable[[object], list[dict]]  # the file's JSON -> SQuAD-format articles


def _squad(document: object) -> list[dict]:
    assert isinstance(document, dict)
    return list(document["data"])


def selqa_to_squad(document: object) -> list[dict]:
    """SelQA's answer-sentence selection: a question with its section's sentences and the
    indices of those that answer. Each becomes a one-paragraph SQuAD article whose answer is
    the first answering sentence; questions answered by several sentences are left out, so no
    answering sentence is ever taught as a negative."""
    assert isinstance(document, list)
    articles: dict[tuple[str, str], dict] = {}
    for index, item in enumerate(document):
        if len(item["answers"]) != 1:
            continue
        sentences = [" ".join(s.split()) for s in item["candidates"]]
        answer = item["answers"][0]
        context = " ".join(sentences)
        start = len(" ".join(sentences[:answer])) + (1 if answer else 0)
        article = articles.setdefault(
            (item["article"], item["section"]), {"title": item["article"], "paragraphs": []}
        )
        qa = {
            "id": f"selqa-{index}",
            "question": item["question"],
            "answers": [{"answer_start": start, "text": sentences[answer]}],
        }
        article["paragraphs"].append({"context": context, "qas": [qa]})
    return list(articles.values())


SOURCES = (
    ExtraSource(
        name="SQuADShifts, New Wikipedia (Miller, Krauth, Recht and Schmidt 2020)",
        file="new_wiki_v1.0.json",
        repository="https://github.com/albertvillanova/squadshifts-website",
        commit="b7cc4d50af791c36c49417fb94dd739d6a9e7bef",
        path="datasets/new_wiki_v1.0.json",
        sha256="1d50a0ca4cdab88d038b52ea8a2d0510af6038d7f41a0a256b9659237769d0ee",
        licence="CC BY 4.0",
        convert=_squad,
    ),
    ExtraSource(
        name="TyDi QA GoldP, English training part (Clark et al. 2020)",
        file="english_tydiqa_train.json",
        repository="https://github.com/sagorbrur/tydiqa-language-specific",
        commit="55c6649475e0765f717a6d32a173c6664096a8ce",
        path="language_data/english/english_tydiqa_train.json",
        sha256="ab4317b6f2fcf3367e8890226631deaf3af283ffb5a878fc54ebb0d6b2afe377",
        licence="Apache 2.0",
        convert=_squad,
    ),
    *(
        ExtraSource(
            name=f"SelQA answer sentence selection, {split} set (Jurczyk, Zhai and Choi 2016)",
            file=f"selqa-ass-{tag}.json",
            repository="https://github.com/emorynlp/selqa",
            commit="fef3d6ac6944e2d4237165d90e5f859c71676bdd",
            path=f"ass/selqa-ass-{tag}.json",
            sha256=digest,
            licence="Apache 2.0",
            convert=selqa_to_squad,
        )
        for split, tag, digest in (
            (
                "development",
                "dev",
                "b4e6687e44a30b486e24d2b06aa3012ec07d61145f3521f35b7d49daae3e0ca4",
            ),
            ("test", "test", "ca1184d94cc9030883723fab76ef8180b3cf5fb142549a5648d22f59fe7c6fc6"),
        )
    ),
)


def title_key(title: str) -> str:
    return " ".join(title.replace("_", " ").lower().split())


class ExtraDataError(ValueError):
    pass


def load_extra(folder: Path, benchmark_titles: set[str]) -> dict[str, list[dict]]:
    """Every source's articles by source name, checked against its recorded checksum. Articles
    whose title is a benchmark article's are dropped (TyDi QA has a short "Force" passage, a
    title of the SQuAD development set); paragraphs are checked again by the caller."""
    loaded: dict[str, list[dict]] = {}
    for source in SOURCES:
        path = folder / source.file
        if not path.is_file():
            raise ExtraDataError(f"{path} is missing (docs/READER.md says how to get it)")
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != source.sha256:
            raise ExtraDataError(f"{path} is not the file the reader was trained on (checksum)")
        articles = source.convert(json.loads(data.decode("utf-8")))
        loaded[source.name] = [a for a in articles if title_key(a["title"]) not in benchmark_titles]
    return loaded
