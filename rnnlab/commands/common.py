"""What every subcommand shares: one name and one meaning per option, and every number checked in one place.

Each numeric option's ``type=`` is one of the checkers below: a value out of range is refused by argparse with a
one-line ``rnnlab: error: argument --NAME: ...`` that quotes it and says what would be right (never replaced by a
default, never a traceback later).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def _number(kind: type, text: str, name: str) -> float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {name}, got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {name}, got {text!r}")
    return value


def whole(minimum: int = 1) -> Callable[[str], int]:
    """A whole number ≥ ``minimum``."""

    def check(text: str) -> int:
        value = _number(int, text, f"a whole number ≥ {minimum}")
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number ≥ {minimum}, got {value}")
        return value

    return check


def real(*, above: float | None = None, at_least: float | None = None, below: float | None = None,
         at_most: float | None = None) -> Callable[[str], float]:  # fmt: skip
    """A finite number in the given range (``above``/``below`` exclusive, ``at_least``/``at_most`` inclusive)."""
    parts = [f"> {above:g}" if above is not None else "", f"≥ {at_least:g}" if at_least is not None else "",
             f"< {below:g}" if below is not None else "", f"≤ {at_most:g}" if at_most is not None else ""]  # fmt: skip
    wanted = "a number " + " and ".join(p for p in parts if p)

    def check(text: str) -> float:
        value = _number(float, text, wanted)
        if ((above is not None and not value > above) or (at_least is not None and value < at_least)
                or (below is not None and not value < below) or (at_most is not None and value > at_most)):  # fmt: skip
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
        return value

    return check


POSITIVE = whole(1)
COUNT = whole(0)  # 0 allowed: a seed, a span that may be empty, an option that 0 turns off
RATE = real(above=0)  # a learning rate, a temperature, seconds of budget
NONNEGATIVE = real(at_least=0)  # clipping (0: off), weight decay, length-penalty exponent
PROBABILITY = real(at_least=0, below=1)  # dropout, label smoothing
FRACTION = real(above=0, below=1)  # a part of the data
FINITE = real()  # any finite number: a rating threshold (ratings may be negative)


def _log_kinds(text: str) -> tuple[str, ...]:
    from rnnlab.run_logs import KINDS

    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    if not kinds or any(k not in KINDS for k in kinds):
        raise argparse.ArgumentTypeError(f"expected {' and/or '.join(KINDS)}, comma-separated; got {text!r}")
    return kinds


def add_run_options(parser: argparse.ArgumentParser, task: str) -> None:
    """The run folder options of a ``train``: ``--seed``, ``--run-dir`` (default ``runs/<task>-...``), ``--resume``
    and ``--no-progress``."""
    parser.add_argument("--seed", type=COUNT, default=0)
    parser.add_argument("--run-dir", default=None, help=f"run folder (default runs/{task}-<data>-<time>)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --run-dir")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """What every ``train`` takes: ``--minutes`` (a time budget), ``--threads``, ``--log`` (TensorBoard, MLflow:
    :mod:`rnnlab.run_logs`), ``--nproc`` (distributed data parallel, :mod:`rnnlab.distributed`)."""
    parser.add_argument("--minutes", type=RATE, default=None, help="stop training after this many minutes")
    parser.add_argument("--threads", type=POSITIVE, default=None,
                        help="torch threads (default: the cores not busy with other work)")  # fmt: skip
    parser.add_argument("--log", type=_log_kinds, default=(), metavar="tensorboard,mlflow",
                        help="also log the run to TensorBoard and/or MLflow (files in the run folder)")  # fmt: skip
    parser.add_argument("--nproc", type=POSITIVE, default=1,
                        help="train with N processes (PyTorch DDP); torchrun -m rnnlab for machines")  # fmt: skip
