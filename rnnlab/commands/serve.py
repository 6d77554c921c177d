"""``rnnlab serve``: arguments in, :func:`rnnlab.tasks.serve.serve` called."""

from __future__ import annotations

import argparse

from rnnlab.commands.common import POSITIVE


def _port(text: str) -> int:
    value = POSITIVE(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number 1-65535, got {text}")
    return value


def register(commands) -> None:
    serve = commands.add_parser(
        "serve", help="a trained model behind an HTTP API (forecast, classify, tag, generate, translate)"
    )
    serve.add_argument("--checkpoint", required=True, help="a run folder or its best.safetensors")
    serve.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")
    serve.add_argument("--port", type=_port, default=8000)
    serve.add_argument("--concurrency", type=POSITIVE, default=4, help="requests computed at once (default 4)")
    serve.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> None:
    from rnnlab.tasks.serve import serve

    serve(args.checkpoint, host=args.host, port=args.port, workers_limit=args.concurrency)
