# %% [markdown]
# # Minimal RNNs: can a recurrent network be trained in parallel over time?
#
# Feng et al. (2024) strip the GRU and the LSTM until no gate reads $h_{t-1}$. The MinGRU is
# $h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t$ with $z_t = \sigma(W_z x_t)$ and $\tilde h_t = g(W_h x_t)$:
# a *linear* recurrence $h_t = a_t \odot h_{t-1} + b_t$ whose coefficients come from the inputs, so all steps can be
# computed at once by a scan (`scan="log"`, cumulative sums in log space) or one cheap pass over time
# (`scan="linear"`, the CPU default). This example checks that both scans and the step loop compute the same function,
# times a training step against `torch.nn.GRU`, and puts the MinGRU on the adding problem beside the GRU.

# %%
import time

import torch
from _shared import SMALL, save

import rnnlab
from rnnlab.experiments.memory import MemoryConfig, run_one
from rnnlab.inspection.plots import gate_heatmaps

torch.manual_seed(0)
layer = rnnlab.MinGRU(4, 32, batch_first=True)
x = torch.randn(2, 300, 4)
outputs = {}
for scan in ("linear", "log"):
    layer.scan = scan
    outputs[scan], _ = layer(x)
outputs["step loop"], _, trace = layer(x, return_gates=True)  # the loop records the gates
for name, out in outputs.items():
    print(f"{name:>9}: largest difference to the linear scan {(out - outputs['linear']).abs().max():.1e}")
gates = {k: v[0, :60].detach().numpy() for k, v in trace[0, 0].items() if k != "h"}
save(gate_heatmaps(gates, title="MinGRU gates (first 60 steps), untrained"), "minimal_gates.png")

# %% [markdown]
# One training step (forward, backward, Adam) at batch 64, 128 units: the MinGRU has no matrix product inside the
# recurrence, only one for all steps' gates before it.

# %%
for steps in (50, 200) if SMALL else (100, 1000):
    data = torch.randn(steps, 64, 128)
    times = {}
    for name, net in (("torch.nn.GRU", torch.nn.GRU(128, 128)), ("MinGRU", rnnlab.MinGRU(128, 128)),
                      ("MinGRU, log scan", rnnlab.MinGRU(128, 128, scan="log"))):  # fmt: skip
        optimizer = torch.optim.Adam(net.parameters())
        seconds = []
        for _ in range(4):
            start = time.perf_counter()
            out, _ = net(data)
            optimizer.zero_grad()
            out.square().mean().backward()
            optimizer.step()
            seconds.append(time.perf_counter() - start)
        times[name] = sorted(seconds[1:])[1] * 1000
    print(f"T = {steps:>4}: " + ", ".join(f"{k} {v:.0f} ms" for k, v in times.items()))

# %% [markdown]
# The adding problem (two marked values among T; the target is their sum): the MinGRU can hold the first value in
# a unit that writes only at a marker, but whether training finds that is the question.

# %%
config = MemoryConfig(max_steps=200 if SMALL else 1500, lengths=(50,))
for cell in ("gru", "mingru", "minlstm"):
    result = run_one(cell, 50, config, log=lambda line: None)
    outcome = f"solved at step {result.steps_to_solve}" if result.solved else "not solved"
    print(
        f"{cell:>7}, T = 50: test MSE {result.metric:.4f} (predicting 1.0 scores {result.baseline:.3f}), "
        f"{outcome}, {result.seconds:.0f} s"
    )
