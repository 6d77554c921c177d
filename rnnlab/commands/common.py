"""Options every ``train`` subcommand shares, with one name and one meaning each."""

from __future__ import annotations

import argparse


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """``--nproc``: processes for distributed data-parallel training on this machine (see rnnlab.distributed)."""
    parser.add_argument(
        "--nproc", type=int, default=1, help="train with N processes (PyTorch DDP); torchrun -m rnnlab for machines"
    )
