"""``rnnlab tour``: a short tour of the foundation on generated data.

1. parameter counts of the three cells, in torch's and Keras' conventions;
2. a Keras-like summary of a stacked bidirectional LSTM;
3. fused path, step loop and the NumPy oracle on the same random weights (float64, variable lengths);
4. a small LSTM trained to continue a noisy sine wave, and its gates recorded by the step loop;
5. one training step timed for ``torch.nn.LSTM``, rnnlab's fused path and its step loop.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from rnnlab.nn.layers import GRU, LSTM, RNN
from rnnlab.reference.numpy_rnn import NumpyRNN
from rnnlab.summary import count_parameters, summary

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: np.ndarray) -> str:
    """Values in [0, 1] as a row of block characters."""
    idx = np.clip((np.asarray(values) * (len(SPARK) - 1)).round().astype(int), 0, len(SPARK) - 1)
    return "".join(SPARK[i] for i in idx)


def _section(title: str) -> None:
    print(f"\n== {title}")


def parameter_counts() -> None:
    _section("Parameters of one layer on 1 input feature, hidden size 10")
    print(f"{'cell':<6}{'rnnlab (torch)':>16}{'Keras':>8}")
    counts = {}
    for name, layer in (("RNN", RNN(1, 10)), ("LSTM", LSTM(1, 10)), ("GRU", GRU(1, 10))):
        counts[name] = count_parameters(layer)
        print(f"{name:<6}{counts[name]:>16}{count_parameters(layer, convention='keras'):>8}")
    print(f"GRU / LSTM = {counts['GRU'] / counts['LSTM']:.2f} (3 gate blocks against 4)")
    print("torch keeps two bias vectors per gate block (b_ih, b_hh); Keras' SimpleRNN and LSTM keep one.")


def oracle_check(seed: int) -> None:
    _section("Same weights, three implementations (float64, random weights, lengths 7, 3, 5, 1)")
    print(f"{'cell':<10}{'path':<7}{'max |Δ output|':>16}{'max |Δ grad|':>14}")
    torch.manual_seed(seed)
    for cell, make in (
        ("rnn_tanh", lambda: RNN(3, 6, num_layers=2, bidirectional=True)),
        ("lstm", lambda: LSTM(3, 6, num_layers=2, bidirectional=True)),
        ("gru", lambda: GRU(3, 6, num_layers=2, bidirectional=True)),
    ):
        layer = make().double()
        x = torch.randn(7, 4, 3, dtype=torch.double)
        lengths = [7, 3, 5, 1]
        reference = NumpyRNN(cell, layer.state_dict())
        ref_out, _ = reference.forward(x.numpy(), lengths=lengths)
        d_out = np.random.default_rng(seed).standard_normal(ref_out.shape)
        ref_grads = reference.backward(d_out)
        for impl in ("fused", "loop"):
            layer.impl = impl
            layer.zero_grad()
            out, _ = layer(x, lengths=lengths)
            out.backward(torch.from_numpy(d_out))
            d_output = np.abs(out.detach().numpy() - ref_out).max()
            d_grad = max(np.abs(p.grad.numpy() - ref_grads[n]).max() for n, p in layer.named_parameters())
            print(f"{cell:<10}{impl:<7}{d_output:>16.1e}{d_grad:>14.1e}")


def gates_on_a_sine(seed: int, steps: int) -> None:
    _section(f"An LSTM(1, 16) learns to continue a noisy sine ({steps} Adam steps), then shows its gates")
    torch.manual_seed(seed)
    period, length = 24, 96
    t = torch.arange(length + 1, dtype=torch.float32)
    model = LSTM(1, 16, batch_first=True)
    head = torch.nn.Linear(16, 1)
    optimizer = torch.optim.Adam([*model.parameters(), *head.parameters()], lr=1e-2)
    for step in range(1, steps + 1):
        phase = torch.rand(32, 1) * 2 * math.pi
        wave = torch.sin(2 * math.pi * t / period + phase) + 0.05 * torch.randn(32, length + 1)  # (B, T+1)
        x, y = wave[:, :-1, None], wave[:, 1:, None]  # (B, T, 1)
        out, _ = model(x)  # (B, T, 16), fused path
        loss = torch.nn.functional.mse_loss(head(out), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % max(1, steps // 4) == 0 or step == 1:
            print(f"step {step:>4} | train mse {loss.item():.4f}")
    with torch.no_grad():
        x = torch.sin(2 * math.pi * t[: period * 2] / period)[None, :, None]  # (1, 48, 1)
        _, _, trace = model(x, return_gates=True)  # return_gates → the step loop records every gate
    gates = {name: g[0].numpy() for name, g in trace[0, 0].items()}  # name → (T, H), the one sequence
    unit = int(np.abs(gates["c"]).mean(0).argmax())  # the unit whose cell state moves most
    print(f"unit {unit} of 16, one value per time step, each row scaled to its own range:")
    print(f"{'input':<14}" + sparkline((x[0, :, 0].numpy() + 1) / 2))
    for name, label in (("i", "input gate"), ("f", "forget gate"), ("o", "output gate"), ("c", "cell state")):
        row = gates[name][:, unit]
        scaled = (row - row.min()) / (np.ptp(row) + 1e-9)
        print(f"{label:<14}" + sparkline(scaled) + f"  {row.min():+.2f} … {row.max():+.2f}")


def step_timing(repeats: int) -> None:
    batch, steps, features, hidden = 64, 100, 32, 128
    _section(f"One training step (forward + backward + Adam), B={batch} T={steps} I={features} H={hidden}")
    x = torch.randn(steps, batch, features)
    candidates = {
        "torch.nn.LSTM": torch.nn.LSTM(features, hidden),
        "rnnlab fused": LSTM(features, hidden, impl="fused"),
        "rnnlab loop": LSTM(features, hidden, impl="loop"),
    }
    times = {}
    for name, layer in candidates.items():
        optimizer = torch.optim.Adam(layer.parameters())
        samples = []
        for i in range(repeats + 2):
            start = time.perf_counter()
            out, _ = layer(x)
            out.square().mean().backward()
            optimizer.step()
            optimizer.zero_grad()
            if i >= 2:  # the first two warm up
                samples.append(time.perf_counter() - start)
        times[name] = float(np.median(samples)) * 1000
    base = times["torch.nn.LSTM"]
    for name, ms in times.items():
        print(f"{name:<15}{ms:>8.1f} ms   {ms / base:>5.2f}x torch.nn")
    print("(bench/bench_layers.py measures this properly, for all cells and two sizes)")


def run_tour(*, quick: bool = False, seed: int = 0) -> None:
    start = time.perf_counter()
    print("rnnlab tour: the cells, the layers and the NumPy oracle")
    parameter_counts()
    _section("Summary of LSTM(8, 32, num_layers=2, bidirectional=True, batch_first=True) on a (4, 20, 8) batch")
    summary(LSTM(8, 32, num_layers=2, bidirectional=True, batch_first=True), torch.randn(4, 20, 8))
    oracle_check(seed)
    gates_on_a_sine(seed, steps=40 if quick else 300)
    step_timing(repeats=1 if quick else 10)
    print(f"\ndone in {time.perf_counter() - start:.0f} s")
