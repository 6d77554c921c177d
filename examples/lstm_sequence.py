# %% [markdown]
# # An LSTM reading a sequence: what its gates do
#
# $i_t, f_t, o_t = \sigma(\cdot)$, $g_t = \tanh(\cdot)$, $c_t = f_t \odot c_{t-1} + i_t \odot g_t$,
# $h_t = o_t \odot \tanh(c_t)$. We train a small LSTM to say, at every step, whether it has seen a 1 so far in a
# sequence of 0s and 1s (a memory of one bit), then look at its gates on one sequence: the input gate opens when the
# 1 arrives, and the forget gate stays near 1 afterwards so the cell keeps the bit.

# %%
import torch
from _shared import SMALL, save

import rnnlab
from rnnlab.inspection.plots import gate_heatmaps, hidden_states

torch.manual_seed(0)
steps, batch = 30, 64


def make_batch():
    x = (torch.rand(batch, steps, 1) < 0.04).float()  # rare ones
    seen = (x.cumsum(dim=1) > 0).float()  # (B, T, 1): has a 1 arrived yet?
    return x, seen


lstm = rnnlab.LSTM(1, 8, batch_first=True)
head = torch.nn.Linear(8, 1)
optimizer = torch.optim.Adam([*lstm.parameters(), *head.parameters()], lr=1e-2)
for _ in range(60 if SMALL else 400):
    x, seen = make_batch()
    out, _ = lstm(x)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(head(out), seen)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(f"final loss {loss.item():.4f}")

# %% the gates on one sequence (the step loop records them; the fused path gives the same outputs)
x = torch.zeros(1, steps, 1)
x[0, 8] = 1.0
out, _, trace = lstm(x, return_gates=True)
gates = {name: trace[0, 0][name][0].detach().numpy() for name in ("i", "f", "g", "o")}
labels = [str(int(v)) for v in x[0, :, 0]]
save(gate_heatmaps(gates, labels=labels, units=8, title="LSTM gates: a 1 arrives at step 8"), "lstm_gates.png")
save(hidden_states(out[0].detach().numpy(), labels=labels, title="h_t: the bit, kept"), "lstm_hidden.png")
prediction = torch.sigmoid(head(out))[0, :, 0]
print(
    "P(seen a 1) before step 8:",
    round(prediction[:8].mean().item(), 3),
    "after:",
    round(prediction[9:].mean().item(), 3),
)
