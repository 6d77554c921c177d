"""The ``rnnlab`` command: parse arguments, call the library, print. No logic of its own.

Errors from bad input (``ValueError``, :class:`~rnnlab.errors.RnnlabError`, missing files) are printed as one line
``rnnlab: error: ...`` with exit status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys

from rnnlab.commands import classify, forecast, inspect, text, translate
from rnnlab.errors import RnnlabError

USER_ERRORS = (RnnlabError, ValueError, FileNotFoundError, IsADirectoryError, PermissionError)


def _cmd_tour(args: argparse.Namespace) -> None:
    from rnnlab.tour import run_tour

    run_tour(quick=args.quick, seed=args.seed)


def _cmd_demo(args: argparse.Namespace) -> None:
    from rnnlab.forecast_run import demo_run

    demo_run(args.run_dir, epochs=args.epochs)


def _cmd_summary(args: argparse.Namespace) -> None:
    from rnnlab.nn import layers
    from rnnlab.summary import summary

    cls = {"rnn": layers.RNN, "lstm": layers.LSTM, "gru": layers.GRU}[args.cell]
    options = {"nonlinearity": args.nonlinearity} if args.cell == "rnn" else {}
    model = cls(
        args.input_size,
        args.hidden_size,
        num_layers=args.num_layers,
        bidirectional=args.bidirectional,
        batch_first=True,
        **options,
    )
    summary(model)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rnnlab", description="Recurrent neural networks you can see inside.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="LSTM, GRU and RNN forecasters on the electricity series (~1 minute)")
    demo.add_argument("--run-dir", default="runs/demo", help="where the runs go (default runs/demo)")
    demo.add_argument("--epochs", type=int, default=30, help="at most this many epochs per model (default 30)")
    demo.set_defaults(func=_cmd_demo)

    tour = commands.add_parser("tour", help="a tour of the cells, layers and the NumPy oracle (seconds)")
    tour.add_argument("--quick", action="store_true", help="smaller sizes (used by the tests)")
    tour.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    tour.set_defaults(func=_cmd_tour)

    summ = commands.add_parser("summary", help="print the parameter table of a recurrent layer")
    summ.add_argument("--cell", choices=("rnn", "lstm", "gru"), default="lstm", help="cell type (default lstm)")
    summ.add_argument("--input-size", type=int, default=1, help="features per time step (default 1)")
    summ.add_argument("--hidden-size", type=int, default=10, help="size of h (default 10)")
    summ.add_argument("--num-layers", type=int, default=1, help="stacked layers (default 1)")
    summ.add_argument("--bidirectional", action="store_true", help="add a time-reversed pass per layer")
    summ.add_argument("--nonlinearity", choices=("tanh", "relu"), default="tanh", help="for --cell rnn")
    summ.set_defaults(func=_cmd_summary)

    forecast.register(commands)
    inspect.register(commands)
    classify.register(commands)
    text.register(commands)
    translate.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except USER_ERRORS as exc:
        if args.debug:
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"rnnlab: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rnnlab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (rnnlab text generate | head): stop quietly, as cat does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the final flush at exit does not raise again
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
