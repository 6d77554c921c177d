"""MinGRU and MinLSTM beyond the oracle grid (tests/test_layers_vs_reference.py): stepping with the state carried, the
gate traces, and every command with a cell offering them."""

from __future__ import annotations

import argparse

import pytest
import torch

from rnnlab import GRU, MinGRU, MinLSTM
from rnnlab.cli import build_parser
from rnnlab.inspection.trace import gradient_flow, record
from tests.conftest import randomize_


@pytest.mark.parametrize("scan", ["linear", "log"])
@pytest.mark.parametrize("cls", [MinGRU, MinLSTM])
def test_one_step_at_a_time_with_the_state_carried_equals_the_whole_sequence(cls, scan):
    """What generation and streaming do: T calls of one step each, the state handed on."""
    layer = randomize_(cls(3, 8, num_layers=2, batch_first=True, scan=scan))
    x = torch.randn(2, 40, 3)
    whole, h_whole = layer(x)
    state, steps = None, []
    for t in range(40):
        out, state = layer(x[:, t : t + 1], state)
        steps.append(out)
    torch.testing.assert_close(torch.cat(steps, dim=1), whole, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(state, h_whole, rtol=1e-5, atol=1e-6)


def test_gate_traces_name_the_gates_and_the_minlstm_gates_sum_to_one():
    model = randomize_(MinLSTM(2, 6, bidirectional=True, batch_first=True))
    with record(model) as traces:
        out, _ = model(torch.randn(3, 12, 2), lengths=[12, 7, 3])
    gates = traces[0].trace[0, 1]
    assert set(gates) == {"f", "i", "n", "h"}
    inside = torch.arange(12)[None, :, None] < torch.tensor([12, 7, 3])[:, None, None]  # (B, T, 1)
    torch.testing.assert_close((gates["f"] + gates["i"])[inside.expand(-1, -1, 6)], torch.ones(22 * 6))
    assert (gates["n"][inside.expand(-1, -1, 6)] > 0).all()  # the candidate g(a) is positive
    torch.testing.assert_close(gates["h"], out[..., 6:])  # the reverse direction's h, stored where it belongs
    flow = gradient_flow(randomize_(MinGRU(2, 6, batch_first=True)), torch.randn(2, 30, 2))
    (curve,) = flow.values()
    assert curve.shape == (30,) and (curve > 0).all()


def _cell_options(parser: argparse.ArgumentParser, path=()):
    """(command path, choices of --cell) for every parser that has a --cell option."""
    for action in parser._actions:
        if "--cell" in getattr(action, "option_strings", ()):
            yield path, tuple(action.choices)
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _cell_options(sub, (*path, name))


def test_every_command_with_a_cell_offers_the_minimal_cells():
    found = dict(_cell_options(build_parser()))
    for command in ("forecast", "classify", "text", "translate", "anomaly", "recommend", "tag", "speech"):
        assert (command, "train") in found, command
    assert ("summary",) in found and ("inspect",) in found
    for path, choices in found.items():
        assert {"mingru", "minlstm"} <= set(choices), path


@pytest.mark.parametrize(
    "make",
    [
        lambda: MinGRU(3, 32),  # the C++ pass (32 units: its vector loop, where the NaN came from)
        lambda: MinLSTM(3, 32),
        lambda: MinLSTM(3, 32, scan="log"),
        lambda: MinLSTM(3, 32, impl="loop"),
        lambda: GRU(3, 32),  # the hand-fused GRU's C++ loop has the same exp
    ],
    ids=["mingru", "minlstm", "minlstm-log", "minlstm-loop", "gru"],
)
def test_gates_shut_far_past_the_float_range_stay_finite(make):
    """Pre-activations of ±100: exp(100) overflows float32; under -ffast-math 1 / (1 + inf) became NaN, and the
    MinLSTM's σ(a_f) / (σ(a_f) + σ(a_i)) was 0 / 0 (both found when a MinGRU language model diverged)."""
    layer = make()
    with torch.no_grad():
        for p in layer.parameters():
            p.mul_(0.01)
        layer.bias_ih_l0.fill_(-100.0)  # every gate shut
        layer.bias_ih_l0[-32:] = 100.0  # the candidate wide open
    x = torch.randn(6, 2, 3, requires_grad=True)
    h0 = torch.randn(1, 2, 32)
    out, h_n = layer(x, h0)
    (out.sum() + h_n.sum()).backward()
    assert torch.isfinite(out).all() and torch.isfinite(x.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in layer.parameters())
    reference = type(layer)(3, 32, impl="loop").double()  # float64: nothing overflows there
    reference.load_state_dict(layer.state_dict())
    expected, _ = reference(x.double(), h0.double())
    torch.testing.assert_close(out.double(), expected, rtol=1e-4, atol=1e-5)
