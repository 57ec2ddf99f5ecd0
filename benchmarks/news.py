"""Answers and abstentions on real news: the articles of ../shared/corpora, hand-written questions.

SQuAD's unanswerable questions are adversarial rewrites of Wikipedia questions; what a news desk
asks is different: questions that echo an article's words, and questions about stories nobody
has added yet, in the same vocabulary (ministers, elections, money). `data/news_checks.json`
holds both kinds for the seed article and the 13 BBC politics articles; they were written
before any rule was tried on them and are a check, never a tuning set.

    python -m benchmarks.news            # prints the figures and every miss
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from index.offline import quiet_offline_libraries

quiet_offline_libraries()

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
CHECKS = Path(__file__).resolve().parent / "data" / "news_checks.json"


@dataclass(frozen=True)
class NewsResult:
    answerable: int
    answered_right: int  # a listed answer is in the sentence shown
    cited_first: int  # a listed answer is in citation 1's passage
    off_corpus: int
    off_abstained: int
    misses: tuple[str, ...]

    def markdown(self) -> str:
        return "\n".join(
            [
                "| news check | figure |",
                "|---|---|",
                f"| answerable questions answered right | {self.answered_right}/{self.answerable}"
                f" ({self.answered_right / self.answerable:.2f}) |",
                f"| answer in citation 1 | {self.cited_first}/{self.answerable} |",
                f"| off-corpus questions abstained on | {self.off_abstained}/{self.off_corpus}"
                f" ({self.off_abstained / self.off_corpus:.2f}) |",
            ]
        )


def run_news_check(
    model_cache: Path | None = None, corpora: Path = CORPORA, embedder=None
) -> NewsResult | None:
    """The figures, or None when ../shared/corpora is absent (users' clones lack it).
    `embedder`: an already loaded model to reuse (tests share one); default, the configured one.
    """
    if not (corpora / "bbc-politics").is_dir():
        return None
    from bot.service import Briefbot
    from bot.settings import Settings
    from index.knowledge import KnowledgeBase

    checks = json.loads(CHECKS.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), model_cache_dir=model_cache)
        app = Briefbot(settings, KnowledgeBase(settings, embedder=embedder))
        app.add_sources([str(corpora / "seed"), str(corpora / "bbc-politics")], "default")
        right = first = 0
        misses = []
        for item in checks["answerable"]:
            answer = app.ask(item["question"])
            ok = not answer.abstained and any(a in answer.text for a in item["answers"])
            lead = answer.citations[0].passage.text if answer.citations else ""
            right += ok
            first += any(a in lead for a in item["answers"])
            if not ok:
                misses.append(f"answerable, {_shown(answer)}: {item['question']}")
        abstained = 0
        for question in checks["off_corpus"]:
            answer = app.ask(question)
            abstained += answer.abstained
            if not answer.abstained:
                misses.append(f"off-corpus, {_shown(answer)}: {question}")
        app.knowledge.close()
    return NewsResult(
        len(checks["answerable"]),
        right,
        first,
        len(checks["off_corpus"]),
        abstained,
        tuple(misses),
    )


def _shown(answer) -> str:
    if answer.abstained:
        return f"abstained ({answer.abstain_reason})"
    return f"answered {answer.text[:90]!r} ({answer.confidence:.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpora", type=Path, default=CORPORA)
    args = parser.parse_args(argv)
    result = run_news_check(corpora=args.corpora)
    if result is None:
        print(f"skipped: {args.corpora} not found (it ships only in the project's workspace)")
        return 0
    print(result.markdown())
    print("\n".join(["", "Misses:"] + [f"- {m}" for m in result.misses]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
