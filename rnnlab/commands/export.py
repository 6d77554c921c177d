"""``rnnlab export``: arguments in, :func:`rnnlab.tasks.export.export` called."""

from __future__ import annotations

import argparse

from rnnlab.tasks.export import FORMATS


def register(commands) -> None:
    export = commands.add_parser(
        "export", help="a trained network as ONNX or TorchScript (forecast, classify, text, translate)"
    )
    export.add_argument("--checkpoint", required=True, help="a run folder or its best.safetensors")
    export.add_argument("--format", choices=FORMATS, default="onnx")
    export.add_argument("--output", required=True, help="a folder for the files and export.json")
    export.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> None:
    from rnnlab.tasks.export import export

    export(args.checkpoint, args.output, args.format)
