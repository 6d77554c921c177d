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
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    nproc = getattr(args, "nproc", 1) or 1
    if nproc < 1:
        parser.error(f"--nproc must be at least 1, got {nproc}")
    if nproc > 1 and "WORLD_SIZE" not in os.environ:  # start the processes; each runs this command again
        from rnnlab.distributed import relaunch

        return relaunch(_without_nproc(argv), nproc)
    if _distributed():
        from rnnlab.distributed import is_main

        if not is_main():  # one voice: the other processes print nothing
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
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


def _without_nproc(argv: list[str]) -> list[str]:
    out, skip = [], False
    for item in argv:
        if skip:
            skip = False
        elif item == "--nproc":
            skip = True
        elif not item.startswith("--nproc="):
            out.append(item)
    return out


def _distributed() -> bool:
    from rnnlab.distributed import init_from_environment

    return init_from_environment()


if __name__ == "__main__":
    sys.exit(main())
