"""The ``rnnlab`` command: parse arguments, call the library, print. No logic of its own.

Errors from bad input (``ValueError``, :class:`~rnnlab.errors.RnnlabError`, missing files) are printed as one line
``rnnlab: error: ...`` with exit status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys

from rnnlab.commands import basics, classify, forecast, inspect, text, translate
from rnnlab.errors import RnnlabError

USER_ERRORS = (RnnlabError, ValueError, FileNotFoundError, IsADirectoryError, PermissionError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rnnlab", description="Recurrent neural networks you can see inside.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    basics.register(commands)
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
