# %% [markdown]
# # Vanishing gradients through time: the plain RNN forgets, the LSTM and GRU carry the signal
#
# For a loss at the last step $T$, $\partial L / \partial h_t = \partial L / \partial h_T \prod_{k=t+1}^{T}
# \partial h_k / \partial h_{k-1}$: in a tanh RNN each factor is $\mathrm{diag}(1 - h_k^2) W_{hh}$, whose norm is
# usually below 1, so the product shrinks geometrically with the distance $T - t$. The LSTM's cell path has the
# factor $f_t$ instead, close to 1 when the forget gate is open. The curves below are measured in float64 on
# untrained layers with the same input (rnnlab.inspection.trace.vanishing_gradients).

# %%
from _shared import SMALL, save

from rnnlab.inspection.plots import gradient_flow_plot
from rnnlab.inspection.trace import vanishing_gradients

steps = 50 if SMALL else 100
for init in ("torch", "keras"):
    curves = vanishing_gradients(steps=steps, hidden_size=64, init=init)
    for cell, norms in curves.items():
        print(f"{init:5} init, {cell:4}: |dL/dh_1| / |dL/dh_T| = {norms[0] / norms[-1]:.1e}")
    save(gradient_flow_plot(curves, title=f"‖∂L/∂h_t‖, {init} initialisation"), f"gradients_{init}.png")
