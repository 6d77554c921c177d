"""``rnnlab anomaly datasets | train | score | watch | benchmark``: arguments in, a call to the task module."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from rnnlab.commands.common import COUNT, FRACTION, POSITIVE, RATE, add_training_options, real
from rnnlab.models.detector import SCORERS, THRESHOLDS
from rnnlab.nn import LAYERS

NORMAL = real(above=0)


def _add_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", required=True, help="a CSV/Parquet file, a built-in series, or a labelled set: yahoo, mitdb, ucr-135"
    )
    parser.add_argument("--target", default=None, help="the column to watch (default: the only numeric one)")
    parser.add_argument("--time", default=None, help="time column (default: found by name)")
    parser.add_argument("--labels", default=None, help="a 0/1 column marking known anomalies, to score against")
    parser.add_argument("--normal", type=NORMAL, default=None,
                        help="how much of the start is normal: points (2000) or a share (0.3; the default, or a "
                             "labelled set's own normal part)")  # fmt: skip
    parser.add_argument("--encoding", default="utf-8", help="of a CSV file")
    parser.add_argument("--fill", choices=("interpolate", "ffill", "zero", "none"), default="interpolate",
                        help="how to fill missing values (default interpolate; 'none' refuses them)")  # fmt: skip
    parser.add_argument("--tolerance", type=COUNT, default=5,
                        help="an event is found if a flag falls within this many points of it (default 5)")  # fmt: skip


def register(commands) -> None:
    anomaly = commands.add_parser("anomaly", help="flag what a network trained on normal data cannot predict")
    sub = anomaly.add_subparsers(dest="anomaly_command", required=True, metavar="ACTION")

    listing = sub.add_parser("datasets", help="the labelled sets and the injected benchmark")
    listing.set_defaults(func=_datasets)

    train = sub.add_parser("train", help="learn normal behaviour, score every point, compare with the baselines")
    _add_data(train)
    train.add_argument("--scorer", choices=SCORERS, default="reconstruction",
                       help="reconstruction error (the default), prediction error, or both (combined)")  # fmt: skip
    train.add_argument("--cell", choices=tuple(LAYERS), default="lstm", help="of the prediction net")
    train.add_argument("--hidden-size", type=POSITIVE, default=32)
    train.add_argument("--layers", type=POSITIVE, default=1)
    train.add_argument("--period", type=COUNT, default=0, help="seasonal period (default: found in the normal part)")
    train.add_argument("--window", type=COUNT, default=0, help="reconstructed window (default: from the period)")
    train.add_argument("--span", type=real(at_least=1), default=3.0, help="EWMA span of the scores (default 3)")
    train.add_argument("--threshold", choices=THRESHOLDS, default="quantile",
                       help="a quantile of normal scores, or Telemanom's dynamic one (default quantile)")  # fmt: skip
    train.add_argument("--quantile", type=FRACTION, default=0.999, help="of the normal scores (default 0.999)")
    train.add_argument("--epochs", type=POSITIVE, default=60)
    train.add_argument("--lr", type=RATE, default=2e-3)
    train.add_argument("--patience", type=POSITIVE, default=8)
    train.add_argument("--seed", type=COUNT, default=0)
    train.add_argument("--run-dir", default=None, help="default runs/anomaly-<data>-<time>")
    train.add_argument("--resume", action="store_true", help="continue an interrupted run in --run-dir")
    add_training_options(train)
    train.set_defaults(func=_train)

    score = sub.add_parser("score", help="score and flag every point of a file with a trained detector")
    score.add_argument("--checkpoint", required=True, help="a run folder or its best.safetensors")
    _add_data(score)
    score.add_argument("--output", default=None, help="CSV of scores and flags (default: print)")
    score.set_defaults(func=_score)

    watch = sub.add_parser("watch", help="read values as they come and print alerts (one value a line)")
    watch.add_argument("--checkpoint", required=True, help="a run folder or its best.safetensors")
    watch.add_argument("--input", default="-", help="a file, or - for standard input (the default)")
    watch.add_argument("--on-bad-line", choices=("stop", "skip"), default="stop",
                       help="a line that is not a number stops the stream, or is skipped with a warning")  # fmt: skip
    watch.add_argument("--every-point", action="store_true", help="print every point as CSV, not only alerts")
    watch.set_defaults(func=_watch)

    bench = sub.add_parser("benchmark", help="default detectors beside the baselines on real and injected anomalies")
    bench.add_argument("--suite", choices=("all", "injected", "labelled"), default="all")
    bench.add_argument("--seed", type=COUNT, default=0, help="of the injected anomalies")
    bench.add_argument("--tolerance", type=COUNT, default=5)
    bench.add_argument("--output", default=None, help="also write the results as JSON here")
    bench.set_defaults(func=_benchmark)


def _data(args: argparse.Namespace, *, training: bool = True, log=print):
    from rnnlab.tasks.anomaly import read_data

    return read_data(args.data, target=args.target, time=args.time, labels=args.labels, normal=args.normal,
                     fill=args.fill, encoding=args.encoding, training=training, log=log)  # fmt: skip


def _datasets(args: argparse.Namespace) -> None:
    from rnnlab.tasks.anomaly import datasets_table

    print(datasets_table())


def _train(args: argparse.Namespace) -> None:
    from rnnlab.models.detector import DetectorConfig
    from rnnlab.tasks.anomaly import train_run
    from rnnlab.train import TrainConfig

    config = DetectorConfig(scorer=args.scorer, cell=args.cell, hidden_size=args.hidden_size, num_layers=args.layers,
                            period=args.period, window=args.window, span=args.span, threshold=args.threshold,
                            quantile=args.quantile)  # fmt: skip
    train_config = TrainConfig(epochs=args.epochs, lr=args.lr, patience=args.patience, seed=args.seed,
                               lr_patience=3, progress=False, max_seconds=(args.minutes or 0) * 60)  # fmt: skip
    name = args.data if "/" not in args.data and "." not in args.data else Path(args.data).stem
    run_dir = args.run_dir or f"runs/anomaly-{name}-{datetime.now():%Y%m%d-%H%M%S}"
    train_run(_data(args), config, train_config, run_dir=run_dir, resume=args.resume, tolerance=args.tolerance)


def _score(args: argparse.Namespace) -> None:
    from rnnlab.tasks.anomaly import score_run

    def log(message: str) -> None:
        print(message, file=sys.stderr)

    data = _data(args, training=False, log=log)  # printed: the scores; said on stderr: what was done
    score_run(args.checkpoint, data, output=args.output, tolerance=args.tolerance, log=log)


def _watch(args: argparse.Namespace) -> None:
    from rnnlab.tasks.anomaly import watch_run

    if args.input == "-":
        watch_run(args.checkpoint, sys.stdin, on_bad_line=args.on_bad_line, every_point=args.every_point)
        return
    with open(args.input, encoding="utf-8") as handle:
        watch_run(args.checkpoint, handle, on_bad_line=args.on_bad_line, every_point=args.every_point)


def _benchmark(args: argparse.Namespace) -> None:
    from rnnlab.tasks.anomaly import benchmark_run

    benchmark_run(args.suite, seed=args.seed, tolerance=args.tolerance, output=args.output)
