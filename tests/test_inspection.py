"""Traces of whole models, gradient flow through time, the plots and the report."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from rnnlab import GRU, LSTM
from rnnlab.inspection import plots
from rnnlab.inspection.report import Report
from rnnlab.inspection.trace import gradient_flow, record, trace_model, vanishing_gradients
from rnnlab.reference.numpy_rnn import NumpyRNN
from tests.conftest import randomize_


class Tagger(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(20, 6)
        self.encoder = LSTM(6, 8, batch_first=True, bidirectional=True, impl="fused")
        self.decoder = GRU(16, 5, batch_first=True, num_layers=2)
        self.head = nn.Linear(5, 3)

    def forward(self, tokens):
        out, _ = self.encoder(self.embed(tokens))
        out, _ = self.decoder(out)
        return self.head(out)


def test_record_traces_every_layer_of_a_model_without_changing_its_output():
    model = Tagger().eval()
    tokens = torch.randint(0, 20, (3, 7))
    expected = model(tokens)
    with record(model) as traces:
        got = model(tokens)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    assert [t.name for t in traces] == ["encoder", "decoder"]
    assert traces[0].trace[0, 1]["f"].shape == (3, 7, 8)
    assert traces[1].trace.names == ("r", "z", "n", "h") and (1, 0) in traces[1].trace.steps
    assert all("_recorder" not in layer.__dict__ for layer in (model.encoder, model.decoder))


def test_model_trace_matches_the_numpy_oracle():
    model = Tagger().double().eval()
    randomize_(model.encoder)
    tokens = torch.randint(0, 20, (2, 6))
    traces = trace_model(model, tokens)
    embedded = model.embed(tokens).detach().numpy().transpose(1, 0, 2)  # (T, B, I)
    reference = NumpyRNN("lstm", model.encoder.state_dict())
    reference.forward(embedded)
    for direction in (0, 1):
        caches = reference.gates()[direction]
        for name in ("i", "f", "g", "o", "c"):
            expected = np.stack([c[name] for c in caches]).transpose(1, 0, 2)  # (B, T, H)
            np.testing.assert_allclose(traces[0].trace[0, direction][name].numpy(), expected, rtol=1e-6, atol=1e-10)


def test_record_refuses_a_model_without_recurrent_layers():
    with pytest.raises(ValueError, match="no rnnlab RNN/LSTM/GRU"), record(nn.Linear(2, 2)):
        pass


def test_gradient_flow_at_the_last_step_is_the_loss_gradient_and_matches_autograd():
    layer = LSTM(3, 6, batch_first=True).double()
    x = torch.randn(4, 9, 3, dtype=torch.double)
    flow = gradient_flow(layer, x)[("LSTM", 0, 0)]
    assert flow.shape == (9,)
    assert flow[-1] == pytest.approx(np.sqrt(6))  # L = Σ h_T: ∂L/∂h_T is all ones
    # ∂L/∂h_t by hand: run to step t, then from (h_t, c_t) as leaves; the gradient reaching h_t is the same
    t = 4
    _, (h_t, c_t) = layer(x[:, : t + 1])
    h_t, c_t = h_t.detach().requires_grad_(True), c_t.detach().requires_grad_(True)
    out, _ = layer(x[:, t + 1 :], (h_t, c_t))
    (grad,) = torch.autograd.grad(out[:, -1].sum(), h_t)  # (1, B, H)
    assert flow[t] == pytest.approx(grad[0].norm(dim=-1).mean().item(), rel=1e-9)


def test_untrained_rnn_gradient_at_step_1_is_far_below_the_lstms():
    curves = vanishing_gradients(hidden_size=64, steps=100, init="keras")
    assert curves["lstm"][0] >= 100 * curves["rnn"][0]
    assert all(len(c) == 100 for c in curves.values())


def test_plots_return_figures():
    gates = {name: np.random.rand(12, 5) for name in ("i", "f", "g", "o", "c")}
    figures = [
        plots.gate_heatmaps(gates, labels=list("hello world!")),
        plots.hidden_states(np.random.randn(12, 5), labels=[str(i) for i in range(12)]),
        plots.gradient_flow_plot({"rnn": np.logspace(-8, 0, 20), "lstm": np.logspace(-2, 0, 20)}),
        plots.training_curves(
            [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.2 / e, "val_acc": e / 5} for e in (1, 2)]
        ),
        plots.attention_heatmap(np.eye(3), ["a", "b", "c"], ["x", "y", "z"]),
    ]
    assert all(isinstance(f, Figure) for f in figures)
    assert len(figures[0].axes) == 10  # five heatmaps and their colour bars
    assert plots.figure_png(figures[2])[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_embeds_its_images_and_escapes_text(tmp_path):
    report = Report("run <1>")
    report.table("results", ["model", "MASE"], [["lstm", 0.2], ["naive", 2.9]], highlight={0})
    report.figure("a plot", plots.figure_png(plots.gradient_flow_plot({"rnn": np.ones(3)})))
    report.config = {"cell": "lstm"}
    text = report.write(tmp_path / "report.html").read_text()
    assert "run &lt;1&gt;" in text and "data:image/png;base64," in text and '<tr class="model">' in text
    assert "<script" not in text
