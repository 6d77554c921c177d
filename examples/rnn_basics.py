# %% [markdown]
# # RNN basics: one Elman step by hand, then the same with rnnlab and torch
#
# $h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})$ — the whole of a plain recurrent network.
# We compute one step in NumPy from the layer's own weights, check it against rnnlab's layer and torch's,
# and count parameters under both bias conventions (torch/cuDNN keep two bias vectors, Keras one).

# %%
import numpy as np
import torch

import rnnlab

torch.manual_seed(0)
layer = rnnlab.RNN(input_size=3, hidden_size=4)  # torch's layout: weight_ih_l0 (4, 3), weight_hh_l0 (4, 4), two biases
x = torch.randn(5, 1, 3)  # (T, B, I): five steps, one sequence
h0 = torch.zeros(1, 1, 4)

# %% one step by hand
w_ih, w_hh = layer.weight_ih_l0.detach().numpy(), layer.weight_hh_l0.detach().numpy()
b_ih, b_hh = layer.bias_ih_l0.detach().numpy(), layer.bias_hh_l0.detach().numpy()
h = np.zeros(4)
by_hand = []
for t in range(5):
    h = np.tanh(w_ih @ x[t, 0].numpy() + b_ih + w_hh @ h + b_hh)
    by_hand.append(h)
by_hand = np.array(by_hand)

# %% the same with rnnlab (fused and step loop) and torch.nn.RNN on the same weights
fused, _ = layer(x, h0)
looped = rnnlab.RNN(3, 4, impl="loop")  # the inspectable step loop, same parameters
looped.load_state_dict(layer.state_dict())
loop, _ = looped(x, h0)
theirs = torch.nn.RNN(3, 4)
theirs.load_state_dict(layer.state_dict())
reference, _ = theirs(x, h0)
print("max |by hand - rnnlab|:", np.abs(by_hand - fused[:, 0].detach().numpy()).max())
print("max |fused - loop|:", (fused - loop).abs().max().item())
print("max |rnnlab - torch.nn|:", (fused - reference).abs().max().item())
assert np.allclose(by_hand, fused[:, 0].detach().numpy(), atol=1e-6)

# %% parameter counts: torch keeps b_ih and b_hh, Keras' SimpleRNN one bias
for cell in ("rnn", "lstm", "gru"):
    model = {"rnn": rnnlab.RNN, "lstm": rnnlab.LSTM, "gru": rnnlab.GRU}[cell](1, 10)
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    torch_count = rnnlab.count_parameters(model)
    keras_count = torch_count - gates * 10 if cell != "gru" else torch_count  # Keras' GRU (reset_after) keeps two
    print(f"{cell:5} input 1, hidden 10: torch {torch_count:4} parameters, Keras {keras_count:4}")
rnnlab.summary(rnnlab.RNN(1, 10))  # prints a Keras-style table
