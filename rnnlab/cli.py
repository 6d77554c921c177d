"""The ``rnnlab`` command: parse arguments, call the library, print. No logic of its own.

Errors from bad input (``ValueError``, :class:`~rnnlab.errors.RnnlabError`, a bad option, and any ``OSError`` on the
user's paths: missing, unreadable, read-only, a full disk) are printed as one line ``rnnlab: error: ...`` with exit
status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys

from rnnlab import __version__
from rnnlab.commands import (
    anomaly,
    basics,
    classify,
    export,
    forecast,
    inspect,
    recommend,
    serve,
    speech,
    tag,
    text,
    translate,
)
from rnnlab.errors import RnnlabError

USER_ERRORS = (RnnlabError, ValueError, OSError)


class Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line (the usage is one ``--help`` away)."""

    def error(self, message: str):
        self.exit(2, f"rnnlab: error: {self.prog.removeprefix('rnnlab').strip() or 'rnnlab'}: {message}\n")


def describe(exc: BaseException) -> str:
    """One line for an error: an ``OSError`` names the path and the cause (``No space left on device``)."""
    if isinstance(exc, OSError) and not isinstance(exc, RnnlabError) and exc.strerror:
        where = f" {exc.filename}" if exc.filename else ""
        return f"cannot use{where}: {exc.strerror}"
    return str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="rnnlab", description="Recurrent neural networks you can see inside.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    parser.add_argument("--version", action="version", version=f"rnnlab {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    basics.register(commands)
    forecast.register(commands)
    inspect.register(commands)
    classify.register(commands)
    text.register(commands)
    translate.register(commands)
    anomaly.register(commands)
    recommend.register(commands)
    tag.register(commands)
    speech.register(commands)
    serve.register(commands)
    export.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # a bad option (one line on stderr already), or --help
        return int(stop.code or 0)
    nproc = getattr(args, "nproc", 1)
    if nproc > 1 and "WORLD_SIZE" not in os.environ:  # start the processes; each runs this command again
        from rnnlab.distributed import relaunch

        return relaunch(_without_nproc(argv), nproc)
    if _distributed():
        from rnnlab.distributed import is_main

        if not is_main():  # one voice: the other processes print nothing
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    from rnnlab.runtime import choose_threads, tune_allocator

    tune_allocator()  # every way of running rnnlab gets the allocator that makes training steps faster
    if hasattr(args, "threads"):  # a training command
        choose_threads(args.threads)
    if getattr(args, "log", ()):
        from rnnlab import run_logs

        run_logs.DEFAULT = args.log
    try:
        args.func(args)
        if getattr(args, "log", ()):
            from rnnlab import run_logs

            for folder in dict.fromkeys(run_logs.OPENED):  # the figures and report of each logged run
                run_logs.attach_outputs(folder, args.log)
    except BrokenPipeError:  # the reader went away (rnnlab text generate | head): stop quietly, as cat does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the final flush at exit does not raise again
        return 1
    except USER_ERRORS as exc:
        if args.debug:
            raise
        print(f"rnnlab: error: {describe(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rnnlab: interrupted", file=sys.stderr)
        return 130
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
