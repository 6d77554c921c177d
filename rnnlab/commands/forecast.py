"""``rnnlab forecast datasets | train | evaluate | predict``: arguments in, a call to :mod:`rnnlab.tasks.forecast`."""

from __future__ import annotations

import argparse
from datetime import datetime

from rnnlab.data.windows import BASES
from rnnlab.models.forecaster import LAYERS, ForecastConfig
from rnnlab.train import TrainConfig


def _columns(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip())


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(c) for c in text.split(",") if c.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}") from None


def _add_data(parser: argparse.ArgumentParser, *, with_columns: bool = True) -> None:
    parser.add_argument(
        "--data", required=True, help="a CSV/Parquet file or a built-in series (see: forecast datasets)"
    )
    if with_columns:
        parser.add_argument("--target", type=_columns, default=(), help="column(s) to forecast, comma-separated")
        parser.add_argument("--time", default=None, help="time column (default: time/date/timestamp if present)")
        parser.add_argument("--covariates", type=_columns, default=(), help="further input columns, comma-separated")
    parser.add_argument("--fill", choices=("ffill", "interpolate", "zero"), default=None,
                        help="fill missing values this way (default: refuse them)")  # fmt: skip


def _add_evaluation(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--val-size", type=int, default=None, help="validation points before the test span")
    parser.add_argument("--test-size", type=int, default=None, help="points at the end held out for the test")
    parser.add_argument("--stride", type=int, default=None, help="steps between test origins (default: horizon)")
    parser.add_argument("--mase-period", type=int, default=None, help="m of the MASE scale (default: shortest cycle)")


def register(commands) -> None:
    forecast = commands.add_parser("forecast", help="time-series forecasting with RNN/LSTM/GRU")
    sub = forecast.add_subparsers(dest="forecast_command", required=True, metavar="ACTION")

    sub.add_parser("datasets", help="list the built-in series").set_defaults(func=_datasets)

    train = sub.add_parser("train", help="train a forecaster, evaluate it beside the baselines, write plots")
    _add_data(train)
    defaults = ForecastConfig()
    train.add_argument("--cell", choices=tuple(LAYERS), default=defaults.cell, help="recurrent cell (default lstm)")
    train.add_argument("--hidden-size", type=int, default=defaults.hidden_size, help="size of h (default 64)")
    train.add_argument("--layers", type=int, default=defaults.num_layers, help="stacked layers (default 1)")
    train.add_argument("--dropout", type=float, default=0.0, help="dropout between stacked layers")
    train.add_argument("--lookback", type=int, default=None, help="steps of history read (default 4 × horizon)")
    train.add_argument(
        "--horizon", type=int, default=None, help="steps to forecast (default: 48 for electricity, else 24)"
    )
    train.add_argument("--base", choices=("auto", *BASES), default="auto",
                       help="forecast the change from: nothing, the last value, or the seasonal naive (default: "
                            "seasonal when a period is known, else last)")  # fmt: skip
    train.add_argument("--period", type=int, default=None, help="seasonal period m (default: the longest known cycle)")
    train.add_argument("--cycles", type=_ints, default=None, help="calendar features, periods in steps, e.g. 48,336")
    train.add_argument("--strategy", choices=("direct", "recursive"), default="direct", help="multi-step strategy")
    train.add_argument("--loss", choices=("mae", "mse"), default="mae", help="training loss (default mae)")
    trainer = TrainConfig()
    train.add_argument("--epochs", type=int, default=30, help="at most this many epochs (default 30)")
    train.add_argument("--batch-size", type=int, default=64, help="windows per batch (default 64)")
    train.add_argument("--lr", type=float, default=trainer.lr, help="learning rate (default 2e-3)")
    train.add_argument("--optimizer", choices=("adam", "adamw"), default="adam")
    train.add_argument("--weight-decay", type=float, default=0.0)
    train.add_argument("--clip-norm", type=float, default=trainer.clip_norm, help="gradient clipping (0: off)")
    train.add_argument("--patience", type=int, default=trainer.patience, help="early stopping patience in epochs")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--run-dir", default=None, help="run folder (default runs/forecast-<data>-<cell>-<time>)")
    train.add_argument("--resume", action="store_true", help="continue the run in --run-dir from last.safetensors")
    train.add_argument("--checkpoint-seconds", type=float, default=60.0, help="save last.safetensors this often")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_evaluation(train)
    train.set_defaults(func=_train)

    evaluate = sub.add_parser("evaluate", help="evaluate a trained forecaster beside the baselines")
    evaluate.add_argument("--checkpoint", required=True, help="a best.safetensors of a forecast run")
    _add_data(evaluate, with_columns=False)
    _add_evaluation(evaluate)
    evaluate.set_defaults(func=_evaluate)

    predict = sub.add_parser("predict", help="forecast the steps after the end of a table")
    predict.add_argument("--checkpoint", required=True, help="a best.safetensors of a forecast run")
    _add_data(predict, with_columns=False)
    predict.add_argument("--output", default=None, help="CSV to write (default: print)")
    predict.set_defaults(func=_predict)


def _datasets(args: argparse.Namespace) -> None:
    from rnnlab.tasks.forecast import datasets_table

    print(datasets_table())


def _train(args: argparse.Namespace) -> None:
    from rnnlab.data.datasets import BUILTINS
    from rnnlab.tasks.forecast import DataOptions, train_run

    entry = BUILTINS.get(args.data)
    cycles = args.cycles if args.cycles is not None else (entry.cycles if entry else ())
    period = args.period if args.period is not None else (max(cycles) if cycles else 0)
    horizon = args.horizon if args.horizon is not None else (48 if args.data == "electricity" else 24)
    lookback = args.lookback if args.lookback is not None else 4 * horizon
    base = args.base if args.base != "auto" else ("seasonal" if period and horizon <= period else "last")
    config = ForecastConfig(
        cell=args.cell, hidden_size=args.hidden_size, num_layers=args.layers, dropout=args.dropout,
        lookback=lookback, horizon=horizon, base=base, period=period, cycles=tuple(cycles),
        strategy=args.strategy, loss=args.loss, batch_size=args.batch_size,
    )  # fmt: skip
    train_config = TrainConfig(
        epochs=args.epochs, lr=args.lr, optimizer=args.optimizer, weight_decay=args.weight_decay,
        clip_norm=args.clip_norm, patience=args.patience, seed=args.seed, checkpoint_seconds=args.checkpoint_seconds,
        progress=not args.no_progress,
    )  # fmt: skip
    name = args.data if entry else "file"
    run_dir = args.run_dir or f"runs/forecast-{name}-{args.cell}-{datetime.now():%Y%m%d-%H%M%S}"
    options = DataOptions(args.data, args.target, args.time, args.covariates, args.fill)
    train_run(
        options, config, train_config, run_dir=run_dir, resume=args.resume, val_size=args.val_size,
        test_size=args.test_size, stride=args.stride, mase_period=args.mase_period,
    )  # fmt: skip


def _evaluate(args: argparse.Namespace) -> None:
    from rnnlab.tasks.forecast import DataOptions, evaluate_run

    evaluate_run(
        args.checkpoint, DataOptions(args.data, fill=args.fill), val_size=args.val_size, test_size=args.test_size,
        stride=args.stride, mase_period=args.mase_period,
    )  # fmt: skip


def _predict(args: argparse.Namespace) -> None:
    from rnnlab.tasks.forecast import DataOptions, predict_run

    predict_run(args.checkpoint, DataOptions(args.data, fill=args.fill), args.output)
