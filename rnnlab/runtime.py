"""The process around the tensors: glibc's allocator thresholds and the number of threads.

``tune_allocator()``: glibc hands large buffers back to the operating system as soon as they are freed, and torch
frees and re-allocates its activation and gradient buffers every training step; the page faults that follow cost
more than the arithmetic at these sizes. Raising the mmap and trim thresholds (``mallopt`` through ctypes, what
``GLIBC_TUNABLES=glibc.malloc.mmap_threshold=...:glibc.malloc.trim_threshold=...`` does) keeps them in the heap.
The command line calls it at start; the training entry points call it for Python users (``RNNLAB_ALLOCATOR=off``
opts out). A no-op where the C library is not glibc.

``choose_threads(requested)``: OpenMP threads for torch. Two threads on two cores while a third process runs is
the classic oversubscription collapse (each step waits for the slowest thread), so the default is the number of
cores not busy with other work (measured for a quarter of a second at start), and a note says so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

MMAP_THRESHOLD = 256 * 1024 * 1024  # bytes: buffers below this come from the heap, not fresh mmap calls
TRIM_THRESHOLD = 1024 * 1024 * 1024  # bytes of free heap kept before returning memory to the system
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_tuned: bool | None = None


def tune_allocator() -> bool:
    """Set glibc's thresholds once per process; True when they are set (glibc found, not opted out)."""
    global _tuned
    if _tuned is not None:
        return _tuned
    _tuned = False
    if os.environ.get("RNNLAB_ALLOCATOR", "").lower() in ("off", "0", "no") or "mmap_threshold" in os.environ.get(
        "GLIBC_TUNABLES", ""
    ):
        return _tuned
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return _tuned
    _tuned = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _tuned


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def busy_cores(seconds: float = 0.25) -> int:
    """Cores kept busy by other work now: the CPU time ``/proc/stat`` counts over ``seconds`` while this process
    waits, rounded (the 1-minute load average where there is no ``/proc``)."""
    import time

    def sample() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = [int(v) for v in handle.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
        ticks = total1 - total0
        if ticks <= 0:
            return 0
        return round(cores() * (1 - (idle1 - idle0) / ticks))
    except (OSError, ValueError, IndexError):
        try:
            return round(os.getloadavg()[0])
        except (OSError, AttributeError):
            return 0


def choose_threads(requested: int | None = None, log=print) -> int:
    """Set torch's thread count: ``requested``, or the free cores (at least one); says so when others are busy."""
    import torch

    total = cores()
    if requested is None:
        free = max(1, total - busy_cores())
        threads = min(total, free)
        if threads < total:
            log(f"note: {total - threads} of {total} cores are busy with other work (load average); training with "
                f"{threads} thread{'s' * (threads > 1)} (--threads to choose)")  # fmt: skip
    else:
        threads = requested
        if threads > total:
            log(f"note: {threads} threads on {total} cores: expect them to wait for each other")
    torch.set_num_threads(threads)
    return threads
