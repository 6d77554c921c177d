"""``rnnlab forecast datasets | train | evaluate | predict | benchmark``: arguments in, a call to a task."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from rnnlab.commands.common import COUNT, NONNEGATIVE, POSITIVE, PROBABILITY, RATE, add_training_options
from rnnlab.data.datasets import BUILTINS
from rnnlab.data.windows import BASES, TRANSFORMS
from rnnlab.nn import LAYERS
from rnnlab.train import TrainConfig


def _columns(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip())


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(c) for c in text.split(",") if c.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}") from None


def _periods(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(c) for c in text.split(",") if c.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated periods such as 24,168 or 365.25, got {text!r}"
        ) from None


def _add_data(parser: argparse.ArgumentParser, *, with_columns: bool = True) -> None:
    parser.add_argument(
        "--data", required=True, help="a CSV/Parquet file or a built-in series (see: forecast datasets)"
    )
    if with_columns:
        parser.add_argument("--target", type=_columns, default=(), help="column(s) to forecast, comma-separated")
        parser.add_argument(
            "--time", default=None, help="time column, or date parts year,month,day[,hour] (default: found by name)"
        )
        parser.add_argument(
            "--covariates",
            type=_columns,
            default=(),
            help="further input columns, comma-separated, or 'all' (text columns are categories)",
        )
    parser.add_argument("--encoding", default="utf-8", help="of a CSV file (e.g. latin-1; default utf-8)")
    parser.add_argument(
        "--fill",
        choices=("interpolate", "ffill", "zero", "none"),
        default="interpolate",
        help="how to fill missing values (default interpolate; 'none' refuses them)",
    )


def _add_evaluation(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--val-size", type=COUNT, default=None, help="validation points before the test span")
    parser.add_argument("--test-size", type=COUNT, default=None, help="points at the end held out for the test")
    parser.add_argument(
        "--stride", type=POSITIVE, default=None, help="steps between test origins (default: ~12 origins)"
    )
    parser.add_argument(
        "--mase-period", type=POSITIVE, default=None, help="m of the MASE scale (default: the shortest inferred period)"
    )


MODEL_FLAGS = ("cell", "hidden_size", "layers", "dropout", "lookback", "base", "transform", "strategy", "loss")


def register(commands) -> None:
    forecast = commands.add_parser("forecast", help="time-series forecasting with RNN/LSTM/GRU")
    sub = forecast.add_subparsers(dest="forecast_command", required=True, metavar="ACTION")

    sub.add_parser("datasets", help="list the built-in series").set_defaults(func=_datasets)

    train = sub.add_parser("train", help="train a forecaster, evaluate it beside the baselines, write plots")
    _add_data(train)
    train.add_argument(
        "--horizon",
        type=POSITIVE,
        default=None,
        help="steps to forecast (default: from the frequency, e.g. 24 for hourly, 12 for monthly)",
    )
    train.add_argument(
        "--auto",
        choices=("on", "off"),
        default="on",
        help="search base, transform and lookback on validation (the ones you do not set; default on)",
    )
    train.add_argument("--budget", type=RATE, default=180.0,
                       help="seconds for --auto (default 180), or of training for a global model")  # fmt: skip
    train.add_argument(
        "--ensemble",
        type=POSITIVE,
        default=None,
        help="networks trained from different seeds, median forecast (default 6 with --auto, else 1)",
    )
    panel = train.add_argument_group("many series, one model (a global network)")
    panel.add_argument("--id", default=None, help="the column that names each series of a long table")
    panel.add_argument("--wide", action="store_true", help="a wide table: every column but the time is a series")
    panel.add_argument("--strict", action="store_true", help="refuse series too short, instead of skipping them")
    panel.add_argument("--id-embedding", type=COUNT, default=0, help="size of a learnt embedding of the series id")
    model = train.add_argument_group("model (each one you set is fixed; --auto searches the rest)")
    model.add_argument("--cell", choices=tuple(LAYERS), default=None, help="recurrent cell (default lstm)")
    model.add_argument("--hidden-size", type=POSITIVE, default=None, help="size of h (default 64)")
    model.add_argument("--layers", type=POSITIVE, default=None, help="stacked layers (default 1)")
    model.add_argument("--dropout", type=PROBABILITY, default=None, help="dropout between stacked layers")
    model.add_argument("--lookback", type=POSITIVE, default=None, help="steps of history read (default: 2 periods)")
    model.add_argument(
        "--base",
        choices=BASES,
        default=None,
        help="forecast the change from: nothing, the last value, the seasonal naive or ETS",
    )
    model.add_argument("--transform", choices=TRANSFORMS, default=None, help="log for multiplicative seasonality")
    model.add_argument("--strategy", choices=("direct", "recursive"), default=None, help="multi-step strategy")
    model.add_argument("--loss", choices=("mae", "mse"), default=None, help="training loss (default mae)")
    model.add_argument("--period", type=POSITIVE, default=None, help="seasonal period m (default: inferred)")
    model.add_argument(
        "--cycles",
        type=_periods,
        default=None,
        help="seasonal periods in steps, e.g. 48,336 (default: inferred from the data)",
    )
    trainer = TrainConfig()
    train.add_argument("--epochs", type=POSITIVE, default=30, help="at most this many epochs (default 30)")
    train.add_argument("--batch-size", type=POSITIVE, default=64, help="windows per batch (default 64)")
    train.add_argument("--lr", type=RATE, default=trainer.lr, help="learning rate (default 2e-3)")
    train.add_argument("--optimizer", choices=("adam", "adamw"), default="adam")
    train.add_argument("--weight-decay", type=NONNEGATIVE, default=0.0)
    train.add_argument("--clip-norm", type=NONNEGATIVE, default=trainer.clip_norm, help="gradient clipping (0: off)")
    train.add_argument("--patience", type=POSITIVE, default=trainer.patience, help="early stopping patience in epochs")
    train.add_argument("--seed", type=COUNT, default=0)
    train.add_argument("--run-dir", default=None, help="run folder (default runs/forecast-<data>-<time>)")
    train.add_argument("--resume", action="store_true", help="continue the run in --run-dir")
    train.add_argument("--checkpoint-seconds", type=NONNEGATIVE, default=60.0, help="save last.safetensors this often")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_evaluation(train)
    add_training_options(train)
    train.set_defaults(func=_train)

    evaluate = sub.add_parser("evaluate", help="evaluate a trained forecaster beside the baselines")
    evaluate.add_argument("--checkpoint", required=True, help="a run folder or its best.safetensors")
    _add_data(evaluate, with_columns=False)
    _add_evaluation(evaluate)
    evaluate.set_defaults(func=_evaluate)

    predict = sub.add_parser("predict", help="forecast the steps after the end of a table")
    predict.add_argument("--checkpoint", required=True, help="a run folder or its best.safetensors")
    _add_data(predict, with_columns=False)
    predict.add_argument("--output", default=None, help="CSV to write (default: print)")
    predict.add_argument("--id", default=None, help="the id column of a long table (a global model)")
    predict.add_argument("--series", default=None, help="only this series of a panel")
    predict.set_defaults(func=_predict)

    bench = sub.add_parser("benchmark", help="rnnlab's defaults beside the baselines on a suite of real series")
    bench.add_argument("--suite", default="single",
                       help="single (14 series, every frequency) or a competition: m3-monthly, m3-yearly, "
                            "m3-quarterly, m3-other, m1-*, tourism-* (default single)")  # fmt: skip
    bench.add_argument("--compare-local", type=COUNT, default=0,
                       help="with a competition: also run the single-series defaults on this many series")  # fmt: skip
    bench.add_argument("--ensemble", type=POSITIVE, default=5, help="networks of the global model (default 5)")
    bench.add_argument("--series", type=_columns, default=(), help="only these series of the suite, comma-separated")
    bench.add_argument("--budget", type=RATE, default=None,
                       help="seconds of --auto per series (single: 180), of training (competitions: 600)")  # fmt: skip
    bench.add_argument("--run-dir", default=None, help="where the runs go (default runs/benchmark-<suite>-<time>)")
    bench.add_argument("--output", default=None, help="also write the table as CSV here")
    add_training_options(bench)
    bench.set_defaults(func=_benchmark)


def _datasets(args: argparse.Namespace) -> None:
    from rnnlab.tasks.forecast import datasets_table

    print(datasets_table())


def _train(args: argparse.Namespace) -> None:
    if args.id is not None or args.wide:
        return _train_panel(args)
    from rnnlab.tasks.forecast import DataOptions, SpanOptions, train_run

    given = {name: getattr(args, name) for name in MODEL_FLAGS if getattr(args, name) is not None}
    if "layers" in given:
        given["num_layers"] = given.pop("layers")
    given["batch_size"] = args.batch_size
    if args.ensemble is not None:
        given["ensemble"] = args.ensemble
    name = args.data if args.data in BUILTINS else Path(args.data).stem
    run_dir = args.run_dir or f"runs/forecast-{name}-{datetime.now():%Y%m%d-%H%M%S}"
    options = DataOptions(args.data, args.target, args.time, args.covariates, args.fill, args.encoding)
    spans = SpanOptions(args.horizon, args.val_size, args.test_size, args.stride, args.cycles, args.period,
                        args.mase_period)  # fmt: skip
    train_config = _train_config(args)  # (--minutes sets the budget)
    train_run(options, given, train_config, run_dir=run_dir, spans=spans, auto=args.auto == "on",
              budget=args.budget, ensemble=given.pop("ensemble", 6), resume=args.resume)  # fmt: skip


def _train_config(args: argparse.Namespace) -> TrainConfig:
    if args.minutes:  # the whole run's time: the search's budget, and each training's limit
        args.budget = args.minutes * 60
    return TrainConfig(
        epochs=args.epochs, lr=args.lr, optimizer=args.optimizer, weight_decay=args.weight_decay,
        clip_norm=args.clip_norm, patience=args.patience, seed=args.seed, checkpoint_seconds=args.checkpoint_seconds,
        progress=not args.no_progress, max_seconds=(args.minutes or 0) * 60,
    )  # fmt: skip


def _train_panel(args: argparse.Namespace) -> None:
    from rnnlab.tasks.forecast_global import GlobalOptions, train_panel_run

    if args.id is not None and args.wide:
        raise ValueError("give --id (a long table) or --wide (one column per series), not both")
    if args.horizon is None:
        raise ValueError("say how many steps to forecast with --horizon (every series is forecast that far)")
    _train_config(args)  # --minutes becomes the budget
    options = GlobalOptions(
        cell=args.cell or "lstm", hidden_size=args.hidden_size or 64, lookback=args.lookback,
        base=args.base or "theta", transform=args.transform, ensemble=args.ensemble or 5,
        id_embedding=args.id_embedding, lr=args.lr if args.lr != TrainConfig().lr else 1e-3, budget=args.budget,
        seed=args.seed,
    )  # fmt: skip
    run_dir = args.run_dir or f"runs/forecast-global-{Path(args.data).stem}-{datetime.now():%Y%m%d-%H%M%S}"
    train_panel_run(args.data, options, id_column=args.id, target=args.target[0] if args.target else None,
                    time_column=args.time, horizon=args.horizon, test_size=args.test_size, period=args.period,
                    fill=args.fill, strict=args.strict, run_dir=run_dir)  # fmt: skip


def _spans(args: argparse.Namespace):
    from rnnlab.tasks.forecast import SpanOptions

    return SpanOptions(None, args.val_size, args.test_size, args.stride, None, None, args.mase_period)


def _evaluate(args: argparse.Namespace) -> None:
    from rnnlab.tasks.forecast import DataOptions, evaluate_run

    evaluate_run(args.checkpoint, DataOptions(args.data, fill=args.fill, encoding=args.encoding), _spans(args))


def _predict(args: argparse.Namespace) -> None:
    from rnnlab.checkpoint import load_checkpoint

    _, meta = load_checkpoint(args.checkpoint)
    if meta.get("task") == "forecast-global":
        from rnnlab.tasks.forecast_global import predict_panel_run

        predict_panel_run(args.checkpoint, args.data, id_column=args.id, target=None, time_column=None,
                          series_id=args.series, fill=args.fill, output=args.output)  # fmt: skip
        return
    from rnnlab.tasks.forecast import DataOptions, predict_run

    predict_run(args.checkpoint, DataOptions(args.data, fill=args.fill, encoding=args.encoding), args.output)


def _benchmark(args: argparse.Namespace) -> None:
    run_dir = args.run_dir or f"runs/benchmark-{args.suite}-{datetime.now():%Y%m%d-%H%M%S}"
    if args.suite != "single":
        from rnnlab.tasks.forecast_global import GlobalOptions, competition_run, local_versus_global

        options = GlobalOptions(ensemble=args.ensemble, budget=args.budget or 600.0)
        rows, forecasts = competition_run(args.suite, options, run_dir=run_dir)
        if args.compare_local:
            local_versus_global(args.suite, forecasts[rows[0]["method"]], count=args.compare_local, budget=30.0,
                                run_dir=Path(run_dir) / "local")  # fmt: skip
        return
    from rnnlab.tasks.forecast_benchmark import benchmark_run

    benchmark_run(args.suite, series=args.series, budget=args.budget or 180.0, run_dir=run_dir, output=args.output)
