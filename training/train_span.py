"""Train the answer reader's span head and add it to the shipped reader.

    python -m training.train_span --extra-dir extra        # the shipped span head (15 min)
    python -m training.train_span                          # the ten SQuAD articles alone
    python -m training.train_span --smoke --out /tmp/r     # a few steps (the tests)

The reader (training/train_reader.py) says which sentence answers; the span head says which
words of it do. It reads the reader's own last hidden states (the shipped int8 graph is given
them as a second output, its weights untouched, so every sentence score stays what it was):
those after its third layer go through copies of the base model's last three layers and a
start/end linear layer, trained with cross-entropy on the answer's first and last token. At run
time it reads only the answer sentence. Fixed seeds; torch on the CPU; never imported at run time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.answer.reader import (
    HIDDEN_OUTPUT,
    MODEL_DIR,
    SPAN_FILE,
    SentenceReader,
    answer_tokens,
    onnx_session,
    open_tokenizer,
    pair_texts,
)
from index.atomic import write_atomic, write_text_atomic
from index.offline import quiet_offline_libraries
from index.onnx_embedding import padded_inputs
from training.reader_data import (
    TRAIN_PATH,
    Pair,
)
from training.train_reader import MAX_TOKENS, base_model, extra_pairs, prepare

quiet_offline_libraries()

_EXTRA_DATA = (
    "; span head also: SQuADShifts New Wikipedia (CC BY 4.0), TyDi QA GoldP English "
    "(Apache 2.0), SelQA (Apache 2.0) via training/extra_data.py"
)
MASKED = -10000.0  # the span logit of a token outside the sentence and its context


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=TRAIN_PATH)
    parser.add_argument("--reader", type=Path, default=MODEL_DIR, help="the trained reader")
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--extra-dir", type=Path, help="the extra QA sets (docs/READER.md)")
    parser.add_argument(
        "--articles", type=int, help="the first N articles of --data only (as train_reader)"
    )
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument(
        "--branch-layers",
        type=int,
        default=3,
        help="the span head reads the reader's hidden states before its last N layers and runs "
        "copies of the base model's last N layers on them",
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="a few steps on 50 answers")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    given = sys.argv[1:] if argv is None else argv
    command = " ".join(["python -m training.train_span", *given])

    prepared = prepare(args, lambda train: train + _extra_pairs(args))
    if prepared is None:
        return 2
    train, valid = prepared
    train = [p for p in train if p.answer is not None]
    valid = [p for p in valid if p.answer is not None]
    if args.smoke:
        train, valid = train[:50], valid[:20]
    print(f"answers with a span: {len(train)} to train on, {len(valid)} held out", flush=True)
    if args.out != args.reader:
        _copy_reader(args.reader, args.out)
    base = base_model()
    config = _config(base)
    start, width = config["num_hidden_layers"] - args.branch_layers, config["hidden_size"]
    reader_graph = (args.out / _card(args.out)["onnx_file"]).read_bytes()
    graph = with_hidden_output(reader_graph, start - 1, width)
    session = onnx_session(graph, args.threads)
    tokenizer = open_tokenizer(args.out, MAX_TOKENS)
    started = time.time()
    features = _features(session, tokenizer, train, width)
    held_out = _features(session, tokenizer, valid, width)
    print(
        f"reader's hidden states for {len(train) + len(valid)} pairs: {time.time() - started:.0f} s"
    )
    branch = SpanBranch.create(base, start)
    started = time.time()
    _train(branch, features, args, max_steps=3 if args.smoke else None)
    print(f"training took {time.time() - started:.0f} s")
    branch.eval()
    print("held-out figures (torch, fp32):", json.dumps(_figures(branch, held_out)))
    _write(branch, graph, width, args, command)
    reader = SentenceReader(args.out)
    print("held-out figures (shipped int8 ONNX):", json.dumps(span_figures(reader, valid)))
    return 0


def _extra_pairs(args: argparse.Namespace) -> list[Pair]:
    pairs: list[Pair] = []
    for name, found in extra_pairs(args.extra_dir, args.seed, other_sentences=3).items():
        with_span = [p for p in found if p.answer is not None]
        print(f"{name}: {len(with_span)} answers with a span")
        pairs += with_span
    return pairs


def with_hidden_output(graph: bytes, layer: int, width: int) -> bytes:
    """The reader's graph with the hidden states after its layer `layer` (0-based: the output
    of that layer's last layer norm) as a second output named HIDDEN_OUTPUT; nothing it
    computes changes. A graph that has the output already has it replaced."""
    import onnx

    model = onnx.load_from_string(graph)
    for node in [n for n in model.graph.node if HIDDEN_OUTPUT in n.output]:
        model.graph.node.remove(node)
    for output in [o for o in model.graph.output if o.name == HIDDEN_OUTPUT]:
        model.graph.output.remove(output)
    wanted = f"/layer.{layer}/output/LayerNorm/"
    norms = [
        n for n in model.graph.node if n.op_type == "LayerNormalization" and wanted in n.output[0]
    ]
    if len(norms) != 1:
        raise ValueError(f"the reader's graph has no output of layer {layer}")
    model.graph.node.append(
        onnx.helper.make_node("Identity", [norms[0].output[0]], [HIDDEN_OUTPUT])
    )
    model.graph.output.append(
        onnx.helper.make_tensor_value_info(
            HIDDEN_OUTPUT, onnx.TensorProto.FLOAT, ["batch", "tokens", width]
        )
    )
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _card(folder: Path) -> dict:
    return json.loads((folder / "reader.json").read_text(encoding="utf-8"))


def _copy_reader(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    card = _card(source)
    for name in (card["onnx_file"], "tokenizer.json", "reader.json"):
        shutil.copyfile(source / name, target / name)


def _config(location: Path) -> dict:
    """The base model's config.json: how many layers, how wide."""
    return dict(json.loads((location / "config.json").read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Features:
    """The reader's hidden states of each pair, padded to MAX_TOKENS, with the answer's first
    and last token (-100 where the cut to the token limit removed it)."""

    hidden: np.ndarray
    mask: np.ndarray
    types: np.ndarray
    starts: np.ndarray
    ends: np.ndarray


def _features(session, tokenizer, pairs: list[Pair], width: int, batch: int = 64) -> Features:  # type: ignore[no-untyped-def]
    n = len(pairs)
    hidden = np.zeros((n, MAX_TOKENS, width), dtype=np.float16)
    mask = np.zeros((n, MAX_TOKENS), dtype=np.int64)
    types = np.zeros((n, MAX_TOKENS), dtype=np.int64)
    starts = np.full(n, -100, dtype=np.int64)
    ends = np.full(n, -100, dtype=np.int64)
    for at in range(0, n, batch):
        chunk = pairs[at : at + batch]
        encodings = tokenizer.encode_batch([pair_texts(p.question, p.candidate) for p in chunk])
        feed = padded_inputs(encodings)
        states = session.run([HIDDEN_OUTPUT], feed)[0]
        length = states.shape[1]
        hidden[at : at + len(chunk), :length] = states
        mask[at : at + len(chunk), :length] = feed["attention_mask"]
        types[at : at + len(chunk), :length] = feed["token_type_ids"]
        for row, (pair, encoding) in enumerate(zip(chunk, encodings, strict=True)):
            assert pair.answer is not None
            tokens = answer_tokens(encoding, pair.candidate.sentence, *pair.answer)
            if tokens is not None:
                starts[at + row], ends[at + row] = tokens
    return Features(hidden, mask, types, starts, ends)


class SpanBranch:
    """Built lazily so importing this module does not import torch."""

    @staticmethod
    def create(location: Path, first_layer: int):  # type: ignore[no-untyped-def]
        import torch
        from transformers import AutoModel

        class Branch(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                base = AutoModel.from_pretrained(str(location), attn_implementation="eager")
                self.layers = base.encoder.layer[first_layer:]
                self.head = torch.nn.Linear(base.config.hidden_size, 2)

            def forward(self, hidden, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
                blocked = (1.0 - attention_mask[:, None, None, :].to(hidden.dtype)) * MASKED
                out = hidden
                for layer in self.layers:
                    out = layer(out, attention_mask=blocked)
                    out = out[0] if isinstance(out, tuple) else out
                outside = (token_type_ids * attention_mask) == 0
                return self.head(out).masked_fill(outside.unsqueeze(-1), MASKED)

        return Branch()


def _batch_tensors(features: Features, rows):  # type: ignore[no-untyped-def]
    import torch

    width = int(features.mask[rows].sum(1).max())
    return (
        torch.from_numpy(features.hidden[rows, :width].astype(np.float32)),
        torch.from_numpy(features.mask[rows, :width]),
        torch.from_numpy(features.types[rows, :width]),
    )


def _train(branch, features: Features, args: argparse.Namespace, max_steps: int | None) -> None:  # type: ignore[no-untyped-def]
    import torch

    usable = np.flatnonzero(features.starts >= 0)
    rng = np.random.default_rng(args.seed)
    per_epoch = max(1, len(usable) // args.batch_size)
    total = max_steps or max(1, int(per_epoch * args.epochs))
    optimizer = torch.optim.AdamW(branch.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = max(1, total // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: s / warmup if s < warmup else max(0.0, (total - s) / (total - warmup)),
    )
    loss_of = torch.nn.CrossEntropyLoss()
    branch.train()
    order: list[int] = []
    started, running = time.time(), 0.0
    for step in range(1, total + 1):
        if len(order) < args.batch_size:
            order += list(rng.permutation(usable))
        rows, order = np.array(order[: args.batch_size]), order[args.batch_size :]
        logits = branch(*_batch_tensors(features, rows))
        starts = torch.from_numpy(features.starts[rows])
        ends = torch.from_numpy(features.ends[rows])
        loss = (loss_of(logits[..., 0], starts) + loss_of(logits[..., 1], ends)) / 2
        loss.backward()
        torch.nn.utils.clip_grad_norm_(branch.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
        if step % 100 == 0 or step == total:
            elapsed = time.time() - started
            print(f"step {step}/{total} loss {running:.4f} {elapsed / step:.2f} s/step", flush=True)


def _figures(branch, features: Features) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Start and end token both right (the torch model, before export)."""
    import torch

    rows = np.flatnonzero(features.starts >= 0)
    if not len(rows):
        return {}
    with torch.no_grad():
        logits = branch(*_batch_tensors(features, rows)).numpy()
    right = (logits[..., 0].argmax(1) == features.starts[rows]) & (
        logits[..., 1].argmax(1) == features.ends[rows]
    )
    return {"answers": len(rows), "tokens_exact": round(float(right.mean()), 4)}


def span_figures(reader: SentenceReader, pairs: list[Pair]) -> dict[str, float]:
    """As shipped, on answer sentences: the span is the answer exactly / overlaps it."""
    exact, overlap = [], []
    for pair in pairs:
        assert pair.answer is not None
        span = reader.read(pair.question, [pair.candidate]).spans([0])[0]
        start, end = pair.answer
        exact.append(span is not None and (span.start, span.end) == (start, end))
        overlap.append(span is not None and span.start < end and span.end > start)
    if not exact:
        return {}
    return {
        "answers": len(exact),
        "span_exact": round(float(np.mean(exact)), 4),
        "span_overlap": round(float(np.mean(overlap)), 4),
    }


def _write(branch, graph: bytes, width: int, args: argparse.Namespace, command: str) -> None:  # type: ignore[no-untyped-def]
    """The span head as int8 ONNX, the reader's graph with its hidden output, then the card
    (with both checksums) last, so a half-written folder never passes its checksums."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    card = _card(args.out)
    with tempfile.TemporaryDirectory() as work:
        fp32, int8 = Path(work) / "span.onnx", Path(work) / SPAN_FILE
        dummy = (
            torch.zeros((2, 8, width)),
            torch.tensor([[1] * 8, [1] * 5 + [0] * 3]),
            torch.tensor([[0] * 4 + [1] * 4, [0] * 3 + [1] * 2 + [0] * 3]),
        )
        axes = {"batch": 0, "tokens": 1}
        names = ["hidden", "attention_mask", "token_type_ids"]
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                branch,
                dummy,
                str(fp32),
                input_names=names,
                output_names=["span_logits"],
                dynamic_axes={n: {v: k for k, v in axes.items()} for n in [*names, "span_logits"]},
                opset_version=17,
                dynamo=False,
            )
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
        span_bytes = int8.read_bytes()
    write_atomic(args.out / SPAN_FILE, lambda temp: temp.write_bytes(span_bytes))
    write_atomic(args.out / card["onnx_file"], lambda temp: temp.write_bytes(graph))
    card |= {
        "sha256": hashlib.sha256(graph).hexdigest(),
        "span_file": SPAN_FILE,
        "span_sha256": hashlib.sha256(span_bytes).hexdigest(),
        "span_trained": command,
    }
    if args.extra_dir:
        card["data"] = card["data"].split("; span head also")[0] + _EXTRA_DATA
    write_text_atomic(args.out / "reader.json", json.dumps(card, indent=2) + "\n")
    print(f"wrote {args.out / SPAN_FILE} ({len(span_bytes) / 1e6:.1f} MB)")


if __name__ == "__main__":
    raise SystemExit(main())
