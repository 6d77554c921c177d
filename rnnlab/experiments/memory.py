"""Which cell remembers how far: the adding problem and the copy-memory task over a sweep of sequence lengths.

**Adding problem** (Hochreiter & Schmidhuber 1997; the variant of Le et al. 2015 and Arjovsky et al. 2016): each
step carries a value drawn from U(0, 1) and a marker; exactly two steps are marked, one in each half of the sequence;
the target is the sum of the two marked values. Predicting 1.0 always gives MSE = Var(U + U) = 1/6 ≈ 0.167; the task
counts as *solved* when the test MSE falls below 0.01.

**Copy memory** (Arjovsky et al. 2016): 10 symbols drawn from 8, then T blanks, a delimiter, and 10 more blanks; the
network must output blanks until the delimiter and then the 10 symbols. Outputting blanks and then uniform guesses
gives a cross-entropy of 10·ln 8 / (T + 20); solved means every recalled symbol is right on ≥ 99% of test sequences.

A plain tanh RNN passes gradients back through a product of T Jacobians and forgets; the LSTM's cell state and the
GRU's update gate give the gradient a path that does not shrink. Same seeds give the same table.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from rnnlab.nn import LAYERS as CELLS
from rnnlab.nn.init import keras_init_

# Each cell's Adam rate: the one of {5e-4, 2e-3, 1e-2} that solved the longest T here (gradients clipped at 1). At 1e-2
# the RNN solved only T=10, at 2e-3 T=30, at 5e-4 it nearly solved T=50; the LSTM sat on the plateau for 4,000 steps
# at T=200 with 2e-3 and solved it in 1,800 with 1e-2.
CELL_LR = {"rnn": 5e-4, "lstm": 1e-2, "gru": 1e-2, "mingru": 1e-2, "minlstm": 1e-2}  # the minimal cells: untuned
COPY_SYMBOLS, COPY_LENGTH = 8, 10  # symbols 1..8, 0 is blank, 9 the delimiter


def adding_batch(size: int, steps: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Inputs ``(B, T, 2)`` (value, marker) and targets ``(B, 1)``: one marker in each half."""
    values = torch.rand(size, steps, generator=generator)  # (B, T)
    first = torch.randint(0, steps // 2, (size,), generator=generator)
    second = torch.randint(steps // 2, steps, (size,), generator=generator)
    markers = torch.zeros(size, steps)
    markers[torch.arange(size), first] = 1.0
    markers[torch.arange(size), second] = 1.0
    return torch.stack([values, markers], dim=-1), (values * markers).sum(dim=1, keepdim=True)


def copy_batch(size: int, steps: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """One-hot inputs ``(B, T + 20, 10)`` and target classes ``(B, T + 20)`` of the copy-memory task."""
    symbols = torch.randint(1, COPY_SYMBOLS + 1, (size, COPY_LENGTH), generator=generator)  # (B, 10)
    total = steps + 2 * COPY_LENGTH
    inputs = torch.zeros(size, total, dtype=torch.long)
    inputs[:, :COPY_LENGTH] = symbols
    inputs[:, steps + COPY_LENGTH - 1] = COPY_SYMBOLS + 1  # the delimiter: start recalling at the next step
    targets = torch.zeros(size, total, dtype=torch.long)
    targets[:, -COPY_LENGTH:] = symbols
    return nn.functional.one_hot(inputs, COPY_SYMBOLS + 2).float(), targets


def baseline(task: str, steps: int) -> float:
    return 1 / 6 if task == "adding" else COPY_LENGTH * math.log(COPY_SYMBOLS) / (steps + 2 * COPY_LENGTH)


@dataclass(frozen=True)
class MemoryConfig:
    """The sweep; defaults are sized for about 10 minutes on 2 cores."""

    task: str = "adding"  # 'adding' or 'copy'
    cells: tuple[str, ...] = ("rnn", "lstm", "gru")
    lengths: tuple[int, ...] = (25, 50, 100, 150, 200)  # T values
    hidden_size: int = 64  # size of h
    batch_size: int = 64  # sequences per step
    lr: float = 0.0  # Adam's rate for every cell; 0: each cell's own (CELL_LR)
    max_steps: int = 3000  # per cell and length; a run stops earlier once solved
    eval_every: int = 100  # steps between test evaluations
    test_size: int = 1000  # fixed test sequences per length
    init: str = "keras"  # 'keras' (orthogonal recurrent, forget bias 1) or 'torch'
    seed: int = 0


LONG_SWEEP = MemoryConfig(lengths=(50, 100, 200, 300, 400), max_steps=10_000)


@dataclass
class MemoryResult:
    cell: str
    steps: int  # T
    metric: float  # final test MSE (adding) or cross-entropy (copy)
    baseline: float
    solved: bool
    steps_to_solve: int | None
    seconds: float
    curve: list[tuple[int, float]] = field(default_factory=list)  # (step, test metric)


class MemoryNet(nn.Module):
    """A recurrent layer and a linear head: on the last step (adding) or on every step (copy)."""

    def __init__(self, cell: str, inputs: int, hidden: int, outputs: int, every_step: bool, init: str) -> None:
        super().__init__()
        self.rnn = CELLS[cell](inputs, hidden, batch_first=True)
        if init == "keras":
            keras_init_(self.rnn)
        self.head = nn.Linear(hidden, outputs)
        self.every_step = every_step

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.rnn(x)  # (B, T, H)
        return self.head(out if self.every_step else out[:, -1])  # (B, T, C) or (B, 1)


def run_one(cell: str, steps: int, config: MemoryConfig, log=print) -> MemoryResult:
    """Train one cell on one length until solved or out of steps; the loop reads top to bottom."""
    adding = config.task == "adding"
    make_batch = adding_batch if adding else copy_batch
    torch.manual_seed(config.seed)
    model = MemoryNet(cell, 2 if adding else COPY_SYMBOLS + 2, config.hidden_size, 1 if adding else COPY_SYMBOLS + 1,
                      every_step=not adding, init=config.init)  # fmt: skip
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr or CELL_LR[cell])
    train_gen = torch.Generator().manual_seed(config.seed + 1)
    x_test, y_test = make_batch(config.test_size, steps, torch.Generator().manual_seed(config.seed + 10_000 + steps))

    def loss_of(prediction: Tensor, target: Tensor) -> Tensor:
        if adding:
            return nn.functional.mse_loss(prediction, target)
        return nn.functional.cross_entropy(prediction.flatten(0, 1), target.flatten())

    def solved_on_test() -> tuple[float, bool]:
        model.eval()
        with torch.no_grad():
            prediction = model(x_test)
            metric = loss_of(prediction, y_test).item()
            if adding:
                ok = metric < 0.01
            else:
                recalled = prediction[:, -COPY_LENGTH:].argmax(-1) == y_test[:, -COPY_LENGTH:]  # (B, 10)
                ok = recalled.all(dim=1).float().mean().item() >= 0.99
        model.train()
        return metric, ok

    start, curve, solved_at = time.perf_counter(), [], None
    for step in range(1, config.max_steps + 1):
        x, y = make_batch(config.batch_size, steps, train_gen)
        loss = loss_of(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % config.eval_every == 0 or step == config.max_steps:
            metric, ok = solved_on_test()
            curve.append((step, metric))
            if ok:
                solved_at = step
                break
    seconds = time.perf_counter() - start
    result = MemoryResult(cell, steps, curve[-1][1], baseline(config.task, steps), solved_at is not None, solved_at,
                          seconds, curve)  # fmt: skip
    log(format_row(result))
    return result


def run_sweep(config: MemoryConfig, log=print) -> list[MemoryResult]:
    for cell in config.cells:
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(CELLS)}; got {cell!r}")
    if config.task not in ("adding", "copy"):
        raise ValueError(f"task must be 'adding' or 'copy'; got {config.task!r}")
    rates = ", ".join(f"{c} {config.lr or CELL_LR[c]:g}" for c in config.cells)
    log(f"{config.task}: {', '.join(config.cells)} × T = {', '.join(map(str, config.lengths))}; hidden "
        f"{config.hidden_size}, batch {config.batch_size}, Adam ({rates}), ≤ {config.max_steps} steps, "
        f"init {config.init}, seed {config.seed}")  # fmt: skip
    log(HEADER)
    return [run_one(cell, steps, config, log) for steps in config.lengths for cell in config.cells]


HEADER = f"{'cell':<6}{'T':>5}{'test metric':>13}{'baseline':>10}{'solved':>8}{'steps':>8}{'time s':>8}"


def format_row(r: MemoryResult) -> str:
    steps = str(r.steps_to_solve) if r.steps_to_solve else "-"
    return f"{r.cell:<6}{r.steps:>5}{r.metric:>13.4f}{r.baseline:>10.4f}{'yes' if r.solved else 'no':>8}{steps:>8}" \
        f"{r.seconds:>8.0f}"  # fmt: skip


def format_table(results: list[MemoryResult], task: str) -> str:
    metric = "MSE" if task == "adding" else "cross-entropy"
    return "\n".join([f"{task}: final test {metric} (baseline: {'predict 1.0' if task == 'adding' else 'blanks'})",
                      HEADER, *map(format_row, results)])  # fmt: skip


def sweep_plot(results: list[MemoryResult], task: str):
    """Test metric against training step, one panel per length, one line per cell, baseline dashed."""
    from rnnlab.inspection.plots import _pyplot

    plt = _pyplot()
    lengths = sorted({r.steps for r in results})
    fig, axes = plt.subplots(1, len(lengths), figsize=(4 * len(lengths), 3.4), squeeze=False, sharey=True)
    for ax, steps in zip(axes[0], lengths):
        for r in (r for r in results if r.steps == steps):
            ax.semilogy([s for s, _ in r.curve], [m for _, m in r.curve], label=r.cell)
        ax.axhline(baseline(task, steps), color="grey", linestyle="--", label="baseline")
        if task == "adding":
            ax.axhline(0.01, color="grey", linestyle=":", label="solved")
        ax.set_title(f"T = {steps}")
        ax.set_xlabel("training step")
    axes[0, 0].set_ylabel("test MSE" if task == "adding" else "test cross-entropy")
    axes[0, 0].legend(fontsize="small")
    fig.tight_layout()
    return fig
