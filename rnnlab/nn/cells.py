"""RNN/LSTM/GRU cells: one time step. Parameter names, shapes and gate order match torch.nn.RNNCell/LSTMCell/GRUCell.

A cell owns ``weight_ih`` ``(G*H, I)``, ``weight_hh`` ``(G*H, H)``, ``bias_ih`` and ``bias_hh`` ``(G*H,)`` with
``G`` = 1 (RNN), 4 (LSTM: rows i, f, g, o) or 3 (GRU: rows r, z, n), so
``cell.load_state_dict(torch_cell.state_dict())`` works both ways. The math lives in
:mod:`rnnlab.nn.functional`; a cell only checks its arguments and calls it.

Example::

    >>> cell = LSTMCell(3, 5)
    >>> h, c, gates = cell(torch.randn(2, 3), return_gates=True)
    >>> gates.f.shape
    torch.Size([2, 5])
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnlab.nn import checks
from rnnlab.nn import functional as rf


class _CellBase(nn.Module):
    """Parameters and argument checks shared by the three cells."""

    gate_count: int = 1
    cell_name: str = "cell"

    def __init__(self, input_size: int, hidden_size: int, *, bias: bool = True) -> None:
        super().__init__()
        self.input_size = checks.positive_int("input_size", input_size)
        self.hidden_size = checks.positive_int("hidden_size", hidden_size)
        self.bias = bool(bias)
        rows = self.gate_count * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size))  # (G*H, I)
        self.weight_hh = nn.Parameter(torch.empty(rows, hidden_size))  # (G*H, H)
        if self.bias:
            self.bias_ih = nn.Parameter(torch.empty(rows))  # (G*H,)
            self.bias_hh = nn.Parameter(torch.empty(rows))  # (G*H,)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: every parameter ~ U(-1/√H, 1/√H)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")

    def _batched(self, x: Tensor, states: tuple[Tensor | None, ...]) -> tuple[Tensor, list[Tensor], bool]:
        """Check ``x`` ``(B, I)`` or ``(I,)``; return it batched, the states (zeros if absent), and if it was 1-D."""
        if x.dim() not in (1, 2):
            raise ValueError(f"{self.cell_name} expects input of shape (B, I) or (I,), got {tuple(x.shape)}")
        checks.feature_size(x, self.input_size, self.cell_name)
        unbatched = x.dim() == 1
        if unbatched:
            x = x.unsqueeze(0)  # (1, I)
        expected = (x.shape[0], self.hidden_size)
        out = []
        for name, state in zip(("h", "c"), states):
            if state is None:
                state = x.new_zeros(expected)  # (B, H)
            else:
                state = state.unsqueeze(0) if unbatched else state
                checks.state_shape(name, state, expected, self.cell_name)
            out.append(state)
        return x, out, unbatched

    def _project(self, x: Tensor) -> Tensor:
        return rf.input_projection(x, self.weight_ih, self.bias_ih)  # (B, G*H)


class RNNCell(_CellBase):
    r"""Elman RNN cell: :math:`h' = \phi(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})`, :math:`\phi` = tanh or relu.

    Inputs: ``x`` ``(B, I)`` or ``(I,)``; ``h`` ``(B, H)`` or ``None`` (zeros).
    Outputs: ``h'`` ``(B, H)``.
    """

    gate_count = 1
    cell_name = "RNNCell"

    def __init__(self, input_size: int, hidden_size: int, *, bias: bool = True, nonlinearity: str = "tanh") -> None:
        self.nonlinearity = checks.one_of("nonlinearity", nonlinearity, ("tanh", "relu"))
        super().__init__(input_size, hidden_size, bias=bias)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", nonlinearity={self.nonlinearity!r}"

    def forward(self, x: Tensor, h: Tensor | None = None) -> Tensor:
        x, (h,), unbatched = self._batched(x, (h,))
        h_new = rf.rnn_step(self._project(x), h, self.weight_hh, self.bias_hh, nonlinearity=self.nonlinearity)
        return h_new.squeeze(0) if unbatched else h_new


class LSTMCell(_CellBase):
    r"""LSTM cell (gate rows i, f, g, o as in ``torch.nn.LSTMCell``).

    .. math::
        c' = f \odot c + i \odot g,\qquad h' = o \odot \tanh(c')

    Inputs: ``x`` ``(B, I)`` or ``(I,)``; ``hx`` = ``(h, c)``, each ``(B, H)``, or ``None`` (zeros).
    Outputs: ``(h', c')``; with ``return_gates=True`` also an :class:`~rnnlab.nn.functional.LSTMGates`.
    """

    gate_count = 4
    cell_name = "LSTMCell"

    def forward(
        self, x: Tensor, hx: tuple[Tensor, Tensor] | None = None, *, return_gates: bool = False
    ) -> tuple[Tensor, Tensor] | tuple[Tensor, Tensor, rf.LSTMGates]:
        h0, c0 = (None, None) if hx is None else hx
        x, (h, c), unbatched = self._batched(x, (h0, c0))
        result = rf.lstm_step(self._project(x), h, c, self.weight_hh, self.bias_hh, return_gates=return_gates)
        if unbatched:
            result = _squeeze_all(result)
        return result


class GRUCell(_CellBase):
    r"""GRU cell (gate rows r, z, n as in ``torch.nn.GRUCell``; the reset gate multiplies ``W_hn h + b_hn``).

    .. math::
        n = \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})),\qquad h' = (1 - z) \odot n + z \odot h

    Inputs: ``x`` ``(B, I)`` or ``(I,)``; ``h`` ``(B, H)`` or ``None`` (zeros).
    Outputs: ``h'``; with ``return_gates=True`` ``(h', gates)`` with a :class:`~rnnlab.nn.functional.GRUGates`.
    """

    gate_count = 3
    cell_name = "GRUCell"

    def forward(
        self, x: Tensor, h: Tensor | None = None, *, return_gates: bool = False
    ) -> Tensor | tuple[Tensor, rf.GRUGates]:
        x, (h,), unbatched = self._batched(x, (h,))
        result = rf.gru_step(self._project(x), h, self.weight_hh, self.bias_hh, return_gates=return_gates)
        if unbatched:
            result = _squeeze_all(result)
        return result


def _squeeze_all(result):
    """Drop the batch dimension of every tensor in a (possibly nested) step result."""
    if isinstance(result, Tensor):
        return result.squeeze(0)
    return (
        type(result)(*(_squeeze_all(r) for r in result))
        if hasattr(result, "_fields")
        else tuple(_squeeze_all(r) for r in result)
    )
