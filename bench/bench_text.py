"""Char-level language models on tiny-shakespeare for a fixed wall-clock budget: rnnlab against a plain torch.nn peer.

    python bench/bench_text.py                       # 30 minutes each, ../shared/data/tinyshakespeare.txt
    python bench/bench_text.py --minutes 2 --out /tmp/bench-text
    python bench/bench_text.py --only rnnlab --cells mingru,minlstm   # the minimal RNNs, same shape, 30 minutes each

Both models have the same shape (embedding 128, 2×512 LSTM, dropout 0.2), batch 64 × 128 characters, Adam 2e-3 and
gradient clipping at 1; both run in this process, one after the other, on the same threads. Both are scored the same
way: the whole validation split (the last 10% of the text, as nanoGPT splits it), every character once, the state
carried, after each pass over the training text. The clock includes those evaluations for both.

- rnnlab: ``rnnlab text train`` as a user runs it: contiguous batches with the state carried from batch to batch
  (stateful truncated BPTT), the learning rate halved when the validation loss stops improving, the best checkpoint
  kept.
- peer: a char-LSTM written the obvious way with ``torch.nn.LSTM``: random 128-character windows, each from a zero
  state, a constant learning rate, no best checkpoint (its "best so far" column is what it would have kept).

``--cells`` trains rnnlab's model once per cell (the same shape with MinGRU or MinLSTM layers: "can RNNs be parallel?").
Prints the validation curve of each against time, the characters per second, and the comparison at equal wall time.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch
from torch import nn

from rnnlab.data.corpus import Corpus
from rnnlab.models.language_model import evaluate_loss
from rnnlab.tasks.text import train_text
from rnnlab.train import TrainConfig

HERE = Path(__file__).resolve().parent
SHAPE = {"cell": "lstm", "embedding_dim": 128, "hidden_size": 512, "num_layers": 2, "dropout": 0.2}
BATCH, BPTT, LR, CLIP = 64, 128, 2e-3, 1.0


class PeerCharLSTM(nn.Module):
    """The obvious char-LSTM: nn.Embedding → nn.LSTM → nn.Linear."""

    def __init__(self, vocab: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, 128)
        self.lstm = nn.LSTM(128, 512, num_layers=2, dropout=0.2, batch_first=True)
        self.dropout = nn.Dropout(0.2)
        self.head = nn.Linear(512, vocab)

    def forward(self, ids, state=None):
        outputs, state = self.lstm(self.dropout(self.embedding(ids)), state)  # (B, T, 512)
        return self.head(self.dropout(outputs)), state  # (B, T, V)


def run_peer(corpus: Corpus, budget: float, log) -> list[dict]:
    torch.manual_seed(0)
    model = PeerCharLSTM(len(corpus.vocab))
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    data, steps_per_eval = corpus.train, len(corpus.train) // (BATCH * BPTT)  # one pass's worth of characters
    generator = torch.Generator().manual_seed(0)
    curve, start, chars, train_time, best = [], time.perf_counter(), 0, 0.0, math.inf
    while time.perf_counter() - start < budget:
        model.train()
        tick = time.perf_counter()
        for _ in range(steps_per_eval):
            starts = torch.randint(0, len(data) - BPTT - 1, (BATCH,), generator=generator)  # (B,)
            x = torch.stack([data[s : s + BPTT] for s in starts])  # (B, T)
            y = torch.stack([data[s + 1 : s + BPTT + 1] for s in starts])  # (B, T)
            logits, _ = model(x)
            loss = nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), CLIP)
            optimizer.step()
            chars += x.numel()
            if time.perf_counter() - start >= budget:
                break
        train_time += time.perf_counter() - tick
        model.eval()
        val = evaluate_loss(model, corpus.val)
        best = min(best, val)
        curve.append({"time_s": time.perf_counter() - start, "val_loss": val, "best_so_far": best,
                      "chars_per_s": chars / train_time})  # fmt: skip
        log(
            f"peer  {curve[-1]['time_s'] / 60:6.1f} min  val {val:.4f}  best {best:.4f}  "
            f"{chars / train_time:,.0f} chars/s"
        )
    return curve


def run_rnnlab(corpus: Corpus, budget: float, out: Path, log, cell: str = "lstm") -> list[dict]:
    run_dir = out / ("rnnlab-run" if cell == "lstm" else f"rnnlab-{cell}")
    config = TrainConfig(epochs=10_000, lr=LR, clip_norm=CLIP, lr_patience=1, patience=6, max_seconds=budget,
                         checkpoint_seconds=300, progress=False)  # fmt: skip
    train_text(corpus, {**SHAPE, "cell": cell}, config, run_dir=run_dir, batch_size=BATCH, bptt=BPTT,
               log=lambda line: log(f"rnnlab {cell} " + line))  # fmt: skip
    history = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    best, curve = math.inf, []
    for entry in history:
        best = min(best, entry["val_loss"])
        curve.append({"time_s": entry["time_s"], "val_loss": entry["val_loss"], "best_so_far": best,
                      "chars_per_s": entry["samples_per_s"]})  # fmt: skip
    return curve


def at(curve: list[dict], seconds: float, key: str) -> float:
    """The value of ``key`` at the last evaluation no later than ``seconds``."""
    seen = [point[key] for point in curve if point["time_s"] <= seconds + 1e-6]
    if seconds == math.inf:
        seen = [point[key] for point in curve]
    return seen[-1] if seen else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data" / "tinyshakespeare.txt"))
    parser.add_argument("--minutes", type=float, default=30.0, help="wall-clock budget per model (default 30)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="runs/bench-text", help="run folder and results (default runs/bench-text)")
    parser.add_argument("--only", choices=("rnnlab", "peer"), default=None)
    parser.add_argument("--cells", default="lstm", help="rnnlab's cells, comma-separated (default lstm)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    budget = args.minutes * 60
    corpus = Corpus.from_files(args.data, level="char", val_fraction=0.1)

    def log(line: str) -> None:
        print(line, flush=True)

    print(f"{args.data}: {len(corpus.train):,} training, {len(corpus.val):,} validation characters; "
          f"{args.minutes:g} minutes each on {torch.get_num_threads()} threads; torch {torch.__version__}")  # fmt: skip
    curves = {}
    if args.only != "peer":
        for cell in args.cells.split(","):
            curves["rnnlab" if cell == "lstm" else f"rnnlab {cell}"] = run_rnnlab(corpus, budget, out, log, cell)
    if args.only != "rnnlab":
        curves["peer"] = run_peer(corpus, budget, log)
    (out / "curves.json").write_text(json.dumps(curves, indent=2))
    print("\nvalidation loss (nats/char, whole split) at equal wall time: best so far (the peer: now / best)")
    print(f"{'minutes':>8}" + "".join(f"{name:>16}" for name in curves))
    for minute in [m for m in (2, 5, 10, 15, 20, 25, 30, 45, 60) if m < args.minutes] + [math.inf]:
        s = minute * 60  # inf: the end of the budget (the last evaluation of each)
        label = "end" if minute == math.inf else f"{minute:g}"
        cells = [f"{at(c, s, 'val_loss'):.4f} / {at(c, s, 'best_so_far'):.4f}" if name == "peer"
                 else f"{at(c, s, 'best_so_far'):.4f}" for name, c in curves.items()]  # fmt: skip
        print(f"{label:>8}" + "".join(f"{cell:>16}" for cell in cells))
    rates = {name: sum(p["chars_per_s"] for p in c) / len(c) for name, c in curves.items()}
    print("\ncharacters per second (training): " + ", ".join(f"{name} {rate:,.0f}" for name, rate in rates.items()))
    if "rnnlab" in rates and "peer" in rates:
        print(f"ratio rnnlab / peer {rates['rnnlab'] / rates['peer']:.2f}")
    _plot(curves, out / "curves.png")
    print(f"curves: {out / 'curves.json'}, {out / 'curves.png'}; rnnlab's runs: {out}/rnnlab-*")


def _plot(curves: dict[str, list[dict]], path: Path) -> None:
    from rnnlab.inspection.plots import _pyplot, save_figure

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, curve in curves.items():
        ax.plot([p["time_s"] / 60 for p in curve], [p["val_loss"] for p in curve], marker=".", label=name)
    ax.axhline(1.44, color="grey", linestyle=":", label="1.44")
    ax.set(xlabel="minutes (training + evaluation)", ylabel="validation loss (nats/char)", ylim=(1.3, 2.0))
    ax.set_title("tiny-shakespeare, char-level 2×512, 2 CPU cores")
    ax.legend()
    save_figure(fig, path)


if __name__ == "__main__":
    main()
