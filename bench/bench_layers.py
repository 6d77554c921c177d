"""Training-step time of rnnlab's layers (fused path and step loop) against torch.nn, measured in one run.

One training step = forward + backward of a mean-square loss on the outputs + an Adam step. The candidates of each
configuration run in interleaved rounds (torch.nn, fused, loop, torch.nn, ...) so that drift of the machine hits them
alike; the figure is the median over rounds. Ratios are against torch.nn of the same cell and size.

    python bench/bench_layers.py                 # both sizes of the issue, RNN/LSTM/GRU, ~2 minutes on 2 cores
    python bench/bench_layers.py --cells lstm --rounds 30

glibc's allocator hands torch's large buffers back to the OS every step unless GLIBC_TUNABLES raises its thresholds;
the script re-runs itself with the setting the Makefile uses unless --default-allocator is given.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

TUNABLES = "glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824"
SIZES = [  # (label, batch, steps, input, hidden, layers)
    ("B=64 T=100 I=32 H=128", 64, 100, 32, 128, 1),
    ("B=64 T=100 I=64 H=256 x2 layers", 64, 100, 64, 256, 2),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", nargs="+", default=["rnn", "lstm", "gru"], choices=["rnn", "lstm", "gru"])
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds per candidate (median taken)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds first")
    parser.add_argument("--default-allocator", action="store_true", help="do not set GLIBC_TUNABLES")
    args = parser.parse_args()
    if not args.default_allocator and os.environ.get("GLIBC_TUNABLES") != TUNABLES:
        os.environ["GLIBC_TUNABLES"] = TUNABLES
        os.execv(sys.executable, [sys.executable, *sys.argv])

    import torch  # after the re-exec: the allocator setting must be in place before torch loads

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import rnnlab

    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")
    print(f"allocator: {'GLIBC_TUNABLES=' + TUNABLES if not args.default_allocator else 'glibc default'}")
    print(f"median of {args.rounds} interleaved rounds after {args.warmup} warm-up rounds; ms per training step\n")

    makers = {
        "rnn": (torch.nn.RNN, rnnlab.RNN),
        "lstm": (torch.nn.LSTM, rnnlab.LSTM),
        "gru": (torch.nn.GRU, rnnlab.GRU),
    }
    header = (
        f"{'size':<34}{'cell':<6}{'torch.nn':>10}{'fused':>9}{'loop':>9}"
        f"{'fused/nn':>10}{'loop/nn':>9}{'loop/fused':>12}"
    )
    print(header)
    print("-" * len(header))
    for label, batch, steps, features, hidden, layers in SIZES:
        x = torch.randn(steps, batch, features)
        for cell in args.cells:
            torch_cls, ours_cls = makers[cell]
            reference = torch_cls(features, hidden, num_layers=layers)
            candidates = {
                "torch.nn": reference,
                "fused": ours_cls(features, hidden, num_layers=layers, impl="fused"),
                "loop": ours_cls(features, hidden, num_layers=layers, impl="loop"),
            }
            for layer in candidates.values():
                layer.load_state_dict(reference.state_dict())
            optimizers = {name: torch.optim.Adam(layer.parameters(), lr=1e-3) for name, layer in candidates.items()}
            samples: dict[str, list[float]] = {name: [] for name in candidates}
            for round_index in range(args.warmup + args.rounds):
                for name, layer in candidates.items():
                    elapsed = training_step(layer, optimizers[name], x)
                    if round_index >= args.warmup:
                        samples[name].append(elapsed)
            ms = {name: statistics.median(s) * 1000 for name, s in samples.items()}
            print(
                f"{label:<34}{cell:<6}{ms['torch.nn']:>10.1f}{ms['fused']:>9.1f}{ms['loop']:>9.1f}"
                f"{ms['fused'] / ms['torch.nn']:>10.3f}{ms['loop'] / ms['torch.nn']:>9.2f}"
                f"{ms['loop'] / ms['fused']:>12.2f}"
            )


def training_step(layer, optimizer, x) -> float:
    start = time.perf_counter()
    out, _ = layer(x)  # (T, B, H)
    loss = out.square().mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
