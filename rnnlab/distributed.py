"""Training on more than one process or machine: PyTorch's DistributedDataParallel under ``torchrun``.

``rnnlab ... train --nproc N`` relaunches the same command under ``torch.distributed.run`` with N processes on this
machine; ``torchrun --nnodes 2 --nproc-per-node N --rdzv-backend c10d --rdzv-endpoint HOST:PORT -m rnnlab ...``
runs it across machines (torchrun's own rendezvous). Each process reads the environment torchrun sets (``RANK``,
``WORLD_SIZE``, ...) and joins the process group (gloo on a CPU, nccl on a GPU).

In the fit loop every process draws the same batches (same seed) and takes its own contiguous shard of each one;
DistributedDataParallel averages the gradients, so a step equals the single-process step on the whole batch when the
shards are equal (``tests/test_distributed.py`` checks it). Only rank 0 writes files (checkpoints, logs, reports) and
prints; every rank can resume from the same ``last.safetensors``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import torch
from torch import Tensor


def rank_and_world() -> tuple[int, int]:
    """(this process's rank, number of processes); (0, 1) when not distributed."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main() -> bool:
    return rank_and_world()[0] == 0


def init_from_environment() -> bool:
    """Join the process group that torchrun describes in the environment; True when there is one."""
    import torch.distributed as dist

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or not dist.is_available():
        return False
    if not dist.is_initialized():
        _exit_with_launcher()
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend=backend)
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    return True


def _exit_with_launcher(poll_seconds: float = 0.2) -> None:
    """torchrun starts each worker in a session of its own, so a launcher killed outright (SIGKILL, an OOM kill)
    leaves its workers running, holding the run folder's lock and a half-finished training. A daemon thread watches
    the parent process and ends this worker as soon as it is gone (the worker is then re-parented)."""
    import threading
    import time

    launcher = os.getppid()

    def watch() -> None:
        while os.getppid() == launcher:
            time.sleep(poll_seconds)
        os._exit(1)

    threading.Thread(target=watch, name="rnnlab-launcher-watch", daemon=True).start()


def shard(batch: Any, rank: int, world: int) -> tuple[Any, float]:
    """This rank's contiguous part of a batch (a tensor of indices, a list, or a tuple of tensors split along the
    first dimension) and a weight for its loss: 0 for a rank whose part would be empty (it then computes on the
    whole batch, so that every rank takes part in the gradient exchange, and contributes nothing)."""
    if world == 1:
        return batch, 1.0
    if isinstance(batch, tuple):
        parts = [shard(b, rank, world)[0] for b in batch]
        empty = any(len(p) == 0 for p in parts)
        return (batch, 0.0) if empty else (tuple(parts), 1.0)
    if isinstance(batch, Tensor):
        part = batch.tensor_split(world)[rank]
    else:
        size = -(-len(batch) // world)
        part = batch[rank * size : (rank + 1) * size]
    return (batch, 0.0) if len(part) == 0 else (part, 1.0)


def all_sum(values: Tensor) -> Tensor:
    """The sum of ``values`` over every process (itself when not distributed)."""
    import torch.distributed as dist

    if rank_and_world()[1] > 1:
        values = values.clone()
        dist.all_reduce(values)
    return values


def barrier() -> None:
    import torch.distributed as dist

    if rank_and_world()[1] > 1:
        dist.barrier()


def relaunch(argv: list[str], nproc: int) -> int:
    """Run ``rnnlab ARGV`` under ``torch.distributed.run`` with ``nproc`` processes here; its exit status."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
               "-m", "rnnlab", *argv]  # fmt: skip
    environment = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", str(max(1, _cores() // nproc)))}
    return subprocess.call(command, env=environment)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
