"""``rnnlab demo``, ``rnnlab tour`` and ``rnnlab summary``: arguments in, a call to the library."""

from __future__ import annotations

import argparse

from rnnlab.commands.common import COUNT, POSITIVE
from rnnlab.nn import LAYERS


def register(commands) -> None:
    demo = commands.add_parser("demo", help="LSTM, GRU and RNN forecasters on the electricity series (~1 minute)")
    demo.add_argument("--run-dir", default="runs/demo", help="where the runs go (default runs/demo)")
    demo.add_argument("--epochs", type=POSITIVE, default=30, help="at most this many epochs per model (default 30)")
    demo.set_defaults(func=_demo)

    tour = commands.add_parser("tour", help="a tour of the cells, layers and the NumPy oracle (seconds)")
    tour.add_argument("--quick", action="store_true", help="smaller sizes (used by the tests)")
    tour.add_argument("--seed", type=COUNT, default=0, help="random seed (default 0)")
    tour.set_defaults(func=_tour)

    summ = commands.add_parser("summary", help="print the parameter table of a recurrent layer")
    summ.add_argument("--cell", choices=tuple(LAYERS), default="lstm", help="cell type (default lstm)")
    summ.add_argument("--input-size", type=POSITIVE, default=1, help="features per time step (default 1)")
    summ.add_argument("--hidden-size", type=POSITIVE, default=10, help="size of h (default 10)")
    summ.add_argument("--layers", "--num-layers", dest="num_layers", type=POSITIVE, default=1,
                      help="stacked layers (default 1)")  # fmt: skip
    summ.add_argument("--bidirectional", action="store_true", help="add a time-reversed pass per layer")
    summ.add_argument("--nonlinearity", choices=("tanh", "relu"), default="tanh", help="for --cell rnn")
    summ.set_defaults(func=_summary)


def _tour(args: argparse.Namespace) -> None:
    from rnnlab.tour import run_tour

    run_tour(quick=args.quick, seed=args.seed)


def _demo(args: argparse.Namespace) -> None:
    from rnnlab.tasks.forecast import demo_run

    demo_run(args.run_dir, epochs=args.epochs)


def _summary(args: argparse.Namespace) -> None:
    from rnnlab.summary import summary

    cls = LAYERS[args.cell]
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
