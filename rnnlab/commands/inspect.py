"""``rnnlab inspect``, ``rnnlab experiment memory|gradients`` and ``rnnlab compare``: arguments in, a job called."""

from __future__ import annotations

import argparse
from datetime import datetime

from rnnlab.commands.common import COUNT, POSITIVE, RATE
from rnnlab.nn import LAYERS


def _ints(text: str) -> tuple[int, ...]:
    """Comma-separated whole numbers ≥ 1 (sequence lengths), at least one."""
    values = tuple(POSITIVE(c.strip()) for c in text.split(",") if c.strip())
    if not values:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers ≥ 1, got {text!r}")
    return values


def _names(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip())


def _stamp(kind: str) -> str:
    return f"runs/{kind}-{datetime.now():%Y%m%d-%H%M%S}"


def register(commands) -> None:
    inspect = commands.add_parser("inspect", help="gate heatmaps, hidden states and gradient flow of one input")
    inspect.add_argument("--checkpoint", default=None, help="a trained model (best.safetensors of a forecast run)")
    inspect.add_argument("--cell", choices=tuple(LAYERS), default=None, help="or an untrained cell")
    inspect.add_argument(
        "--hidden-size", type=POSITIVE, default=32, help="hidden size of the untrained cell (default 32)"
    )
    inspect.add_argument("--text", default=None, help="a text, one character per step (untrained cell)")
    inspect.add_argument("--data", default=None, help="a CSV or built-in series: its last window is the input")
    inspect.add_argument("--example", choices=("sine", "two-sines", "electricity"), default=None,
                         help="a built-in example input")  # fmt: skip
    inspect.add_argument("--out", default=None, help="folder for the plots (default runs/inspect-<time>)")
    inspect.set_defaults(func=_inspect)

    experiment = commands.add_parser("experiment", help="classic experiments: memory (adding, copy), gradients")
    sub = experiment.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    memory = sub.add_parser("memory", help="adding problem or copy task, RNN/LSTM/GRU over a sweep of lengths")
    memory.add_argument("--task", choices=("adding", "copy"), default="adding")
    memory.add_argument("--cells", type=_names, default=("rnn", "lstm", "gru"), help="comma-separated")
    memory.add_argument("--lengths", type=_ints, default=None, help="sequence lengths T, comma-separated")
    memory.add_argument("--max-steps", type=POSITIVE, default=None, help="training steps per cell and length, at most")
    memory.add_argument("--long", action="store_true", help="a longer sweep (T up to 400, more steps): about 1 hour")
    memory.add_argument("--lr", type=RATE, default=0.0, help="one Adam rate for every cell (default: each its own)")
    memory.add_argument("--seed", type=COUNT, default=0)
    memory.add_argument("--out", default=None, help="folder for memory.png and memory.json")
    memory.set_defaults(func=_memory)
    gradients = sub.add_parser("gradients", help="‖∂L/∂h_t‖ through time of untrained RNN, LSTM and GRU")
    gradients.add_argument("--hidden-size", type=POSITIVE, default=64)
    gradients.add_argument("--steps", type=POSITIVE, default=100, help="sequence length T (default 100)")
    gradients.add_argument("--out", default=None, help="folder for the figures")
    gradients.set_defaults(func=_gradients)

    compare = commands.add_parser("compare", help="RNN, LSTM and GRU on the same task, data and budget")
    compare.add_argument("--task", choices=("forecast", "adding", "copy"), default="forecast")
    compare.add_argument("--data", default="electricity", help="series for --task forecast (default electricity)")
    compare.add_argument("--epochs", type=POSITIVE, default=30, help="epochs per cell for forecast (default 30)")
    compare.add_argument("--length", type=POSITIVE, default=100, help="T for adding/copy (default 100)")
    compare.add_argument(
        "--max-steps", type=POSITIVE, default=1500, help="steps per cell for adding/copy (default 1500)"
    )
    compare.add_argument("--out", default=None, help="folder for the runs")
    compare.set_defaults(func=_compare)


def _inspect(args: argparse.Namespace) -> None:
    from rnnlab.tasks.experiments import inspect_job

    inspect_job(checkpoint=args.checkpoint, cell=args.cell, hidden_size=args.hidden_size, text=args.text,
                data=args.data, example=args.example, out_dir=args.out or _stamp("inspect"))  # fmt: skip


def _memory(args: argparse.Namespace) -> None:
    from rnnlab.experiments.memory import LONG_SWEEP, MemoryConfig
    from rnnlab.tasks.experiments import memory_job

    config = LONG_SWEEP if args.long else MemoryConfig()
    if args.task == "copy":
        config = MemoryConfig(task="copy", lengths=(10, 20, 50), max_steps=config.max_steps)
    changes = {"cells": args.cells, "seed": args.seed, "lr": args.lr}
    if args.lengths:
        changes["lengths"] = args.lengths
    if args.max_steps:
        changes["max_steps"] = args.max_steps
    config = MemoryConfig(**{**config.__dict__, **changes})
    memory_job(config, args.out or _stamp(f"memory-{config.task}"))


def _gradients(args: argparse.Namespace) -> None:
    from rnnlab.tasks.experiments import gradients_job

    gradients_job(hidden_size=args.hidden_size, steps=args.steps, out_dir=args.out or _stamp("gradients"))


def _compare(args: argparse.Namespace) -> None:
    from rnnlab.tasks.experiments import compare_job

    compare_job(args.task, length=args.length, max_steps=args.max_steps, data=args.data, epochs=args.epochs,
                out_dir=args.out or _stamp(f"compare-{args.task}"))  # fmt: skip
