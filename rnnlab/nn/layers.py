"""RNN, LSTM and GRU layers with torch's parameter names, over two interchangeable implementations.

Parameters are registered exactly as ``torch.nn.RNN/LSTM/GRU`` registers them: ``weight_ih_l{k}`` ``(G*H, in)``,
``weight_hh_l{k}`` ``(G*H, H)``, ``bias_ih_l{k}``, ``bias_hh_l{k}`` ``(G*H,)``, with the suffix ``_reverse`` for the
backward direction of a bidirectional layer. ``load_state_dict`` therefore works both ways with torch's modules.

``impl`` picks how the same Parameters are run:

- ``"fused"``: the fastest kernel: torch's (oneDNN on CPU, cuDNN on CUDA), except for the GRU on a CPU, where
  torch has none and rnnlab's hand-fused layer (:mod:`rnnlab.nn.fused_gru`) runs instead;
- ``"torch"``: torch's kernel always (for the GRU on a CPU, its op-by-op step loop);
- ``"loop"``: the step loop of :mod:`rnnlab.nn.loop` over :mod:`rnnlab.nn.functional`, which can record gates;
- ``"auto"`` (default): fused unless something only the loop can do is asked for (``return_gates=True``).
  ``impl="fused"`` or ``"torch"`` with such a request raises a ``ValueError`` that names the fix.

Inputs: ``input`` ``(T, B, I)`` (``(B, T, I)`` when ``batch_first``), ``(T, I)`` unbatched, or a ``PackedSequence``;
``hx`` ``(D*L, B, H)`` (a pair ``(h_0, c_0)`` for the LSTM) or None for zeros; ``lengths`` ``(B,)`` for a padded batch.
Outputs: ``output`` ``(T, B, D*H)`` (zero past each sequence's length), ``h_n`` ``(D*L, B, H)`` (``(h_n, c_n)`` for the
LSTM), and with ``return_gates=True`` a :class:`~rnnlab.nn.loop.Trace`.

Example::

    >>> lstm = LSTM(8, 16, num_layers=2, batch_first=True)
    >>> out, (h_n, c_n), trace = lstm(torch.randn(4, 10, 8), return_gates=True)
    >>> out.shape, h_n.shape, trace[1, 0]["f"].shape
    (torch.Size([4, 10, 16]), torch.Size([2, 4, 16]), torch.Size([4, 10, 16]))
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch
from torch import _VF, Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnlab.nn import checks
from rnnlab.nn import functional as rf
from rnnlab.nn.loop import State, Trace, run_layers


class _RecurrentLayer(nn.Module):
    """Parameters, argument checks and the choice of implementation, shared by RNN, LSTM and GRU.

    A subclass says how many gate blocks it has (``gate_count``), how many state tensors (``state_count``), which
    fused kernel runs it (``_fused_kernel``) and what one step is (``_step``).
    """

    gate_count: int = 1
    state_count: int = 1
    fold_hh_bias: bool = True  # b_hh can join the input projection (not for the GRU)
    recurrent_weights: bool = True  # W_hh and b_hh exist (not for the minimal RNNs, whose gates ignore h_{t-1})
    cell: str = "rnn_tanh"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        impl: str = "auto",
    ) -> None:
        super().__init__()
        self.input_size = checks.positive_int("input_size", input_size)  # features of x_t
        self.hidden_size = checks.positive_int("hidden_size", hidden_size)  # size of h (and c)
        self.num_layers = checks.positive_int("num_layers", num_layers)  # stacked layers
        self.dropout = checks.dropout_probability(dropout)  # on the outputs of all layers but the last
        self.impl = checks.one_of("impl", impl, checks.IMPLS)  # 'auto', 'fused' or 'loop'
        self.bias = bool(bias)  # two bias vectors per layer, as torch (and cuDNN) keep them
        self.batch_first = bool(batch_first)  # (B, T, I) instead of (T, B, I)
        self.bidirectional = bool(bidirectional)  # a second, time-reversed pass per layer
        if self.dropout > 0 and num_layers == 1:
            warnings.warn(
                f"dropout={dropout} acts between stacked layers only, and num_layers=1 has none", stacklevel=2
            )
        self.num_directions = 2 if self.bidirectional else 1
        rows = self.gate_count * hidden_size
        self._weight_names: list[tuple[str, ...]] = []  # per layer*D + direction: names of w_ih, w_hh, b_ih, b_hh
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.num_directions
            for direction in range(self.num_directions):
                suffix = f"l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = {f"weight_ih_{suffix}": (rows, layer_input)}
                if self.recurrent_weights:
                    shapes[f"weight_hh_{suffix}"] = (rows, hidden_size)
                if self.bias:
                    shapes[f"bias_ih_{suffix}"] = (rows,)
                    if self.recurrent_weights:
                        shapes[f"bias_hh_{suffix}"] = (rows,)
                for name, shape in shapes.items():
                    self.register_parameter(name, nn.Parameter(torch.empty(shape)))
                self._weight_names.append(tuple(shapes))
        self.reset_parameters()

    # ----- configuration -------------------------------------------------------------------------------------
    def reset_parameters(self) -> None:
        """torch's default: every parameter ~ U(-1/√H, 1/√H)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments as a JSON-able dict; ``type(layer).from_config(cfg)`` rebuilds the layer."""
        return {
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "bias": self.bias,
            "batch_first": self.batch_first,
            "dropout": self.dropout,
            "bidirectional": self.bidirectional,
            "impl": self.impl,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> _RecurrentLayer:
        config = dict(config)
        return cls(config.pop("input_size"), config.pop("hidden_size"), **config)

    def extra_repr(self) -> str:
        defaults = type(self)(1, 1).get_config()
        changed = {k: v for k, v in self.get_config().items() if k not in ("input_size", "hidden_size")}
        options = "".join(f", {k}={v!r}" for k, v in changed.items() if v != defaults[k])
        return f"{self.input_size}, {self.hidden_size}{options}"

    def weights(self) -> list[tuple[Tensor, Tensor | None, Tensor | None, Tensor | None]]:
        """``(w_ih, w_hh, b_ih, b_hh)`` for each layer and direction, index ``layer * D + direction`` (None for a
        weight the layer does not have)."""
        out = []
        for names in self._weight_names:
            params = {n.rsplit("_l", 1)[0]: getattr(self, n) for n in names}  # 'weight_ih' → Parameter
            out.append(tuple(params.get(k) for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")))
        return out

    def _flat_weights(self) -> list[Tensor]:
        """The Parameters in the order torch's fused kernels take them."""
        return [getattr(self, n) for names in self._weight_names for n in names]

    # ----- the two implementations ---------------------------------------------------------------------------
    def _step(self, x_proj: Tensor, state: State, w_hh: Tensor, b_hh: Tensor | None, record: bool):
        raise NotImplementedError

    def _fused_kernel(self):
        raise NotImplementedError

    def _run_fused(self, x: Tensor | PackedSequence, hx: State) -> tuple[Tensor, State]:
        """torch's kernel on a dense ``(T, B, I)`` / ``(B, T, I)`` input or on a PackedSequence's data."""
        kernel = self._fused_kernel()
        state = hx if self.state_count == 2 else hx[0]
        common = (self._flat_weights(), self.bias, self.num_layers, self.dropout, self.training, self.bidirectional)
        if isinstance(x, PackedSequence):
            result = kernel(x.data, x.batch_sizes, state, *common)
        else:
            result = kernel(x, state, *common, self.batch_first)
        return result[0], tuple(result[1:])

    def _hand_fused(self, like: Tensor) -> bool:
        """Whether rnnlab's own kernel (:meth:`_direction_pass`) runs this layer: the GRU's on a CPU with impl 'auto'
        or 'fused', the minimal cells' scans always; the RNN and the LSTM have none."""
        return False

    def _run_hand_fused(self, x: Tensor, hx: State, lengths: Tensor | None, *, batch_first: bool):
        """Every layer and direction through :meth:`_direction_pass` (a subclass's own kernel), dropout between the
        layers; a backward direction reads each sequence reversed within its length."""
        x_tm = x.transpose(0, 1) if batch_first else x  # (T, B, I)
        mask = None
        if lengths is not None:
            lengths = lengths.to(x.device)
            steps = torch.arange(x_tm.shape[0], device=x.device)
            mask = (steps[:, None] < lengths[None, :]).unsqueeze(-1)  # (T, B, 1)
        directions = self.num_directions
        layer_input, finals = x_tm, []
        weights = self.weights()
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                index = layer * directions + direction
                source = _reverse(layer_input, lengths) if direction == 1 else layer_input
                out, final = self._direction_pass(source, hx[0][index], weights[index], mask, lengths)
                outputs.append(_reverse(out, lengths) if direction == 1 else out)
                finals.append(final)
            layer_input = torch.cat(outputs, dim=-1) if directions == 2 else outputs[0]  # (T, B, D*H)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = torch.nn.functional.dropout(layer_input, self.dropout, training=True)
        output = layer_input.transpose(0, 1) if batch_first else layer_input
        return output, (torch.stack(finals),)

    def _direction_pass(self, x: Tensor, h0: Tensor, weights: tuple, mask: Tensor | None,
                        lengths: Tensor | None) -> tuple[Tensor, Tensor]:  # fmt: skip
        """One direction of one layer by the subclass's kernel: ``x`` ``(T, B, I)`` time-major (already reversed for
        a backward direction), ``h0`` ``(B, H)``, ``weights`` ``(w_ih, w_hh, b_ih, b_hh)``, ``mask`` ``(T, B, 1)``
        → outputs ``(T, B, H)`` (zero past each length) and each sequence's final state ``(B, H)``."""
        raise NotImplementedError

    def _run_loop(
        self, x: Tensor, hx: State, lengths: Tensor | None, record: bool, *, batch_first: bool
    ) -> tuple[Tensor, State, Trace | None]:
        """The step loop on a dense input, ``(B, T, I)`` if ``batch_first`` else ``(T, B, I)``."""
        x_tm = x.transpose(0, 1) if batch_first else x  # (T, B, I)
        out, final, trace = run_layers(
            self._step,
            self.weights(),
            x_tm,
            hx,
            num_layers=self.num_layers,
            num_directions=self.num_directions,
            fold_hh_bias=self.fold_hh_bias,
            lengths=lengths,
            dropout=self.dropout,
            training=self.training,
            record=record,
            cell=self.cell,
        )
        return (out.transpose(0, 1) if batch_first else out), final, trace

    # ----- forward -------------------------------------------------------------------------------------------
    def _record(self, trace: Trace | None, x: Any) -> None:
        recorder = self.__dict__.get("_recorder")
        if recorder is not None and trace is not None:
            recorder(self, trace, x)

    def _check_impl(self, return_gates: bool) -> bool:
        """True when this call runs the step loop."""
        impl = checks.one_of("impl", self.impl, checks.IMPLS)
        if return_gates and impl in ("fused", "torch"):
            raise ValueError(
                f"return_gates=True needs the step loop, but this {type(self).__name__} has impl='{impl}'; "
                "build it with impl='auto' or impl='loop' (or set layer.impl = 'auto')"
            )
        return impl == "loop" or return_gates

    def _initial_state(
        self, hx: Tensor | tuple[Tensor, ...] | None, batch: int, like: Tensor, unbatched: bool
    ) -> State:
        expected = (self.num_layers * self.num_directions, batch, self.hidden_size)
        if hx is None:
            return tuple(like.new_zeros(expected) for _ in range(self.state_count))
        states = (hx,) if isinstance(hx, Tensor) else tuple(hx)
        if len(states) != self.state_count:
            raise ValueError(
                f"{type(self).__name__} takes {'(h_0, c_0)' if self.state_count == 2 else 'h_0'} as hx, "
                f"got {len(states)} tensors"
            )
        names = ("h_0", "c_0")
        out = []
        for name, s in zip(names, states):
            s = s.unsqueeze(1) if unbatched else s
            checks.state_shape(name, s, expected, type(self).__name__)
            out.append(s)
        return tuple(out)

    def _lengths(self, lengths: Any, batch: int, steps: int) -> Tensor:
        lengths = torch.as_tensor(lengths, dtype=torch.int64).cpu()
        if lengths.shape != (batch,):
            raise ValueError(f"lengths has shape {tuple(lengths.shape)} but the batch has {batch} sequences")
        bad = lengths[(lengths < 1) | (lengths > steps)]
        if len(bad):
            raise ValueError(f"lengths must lie in [1, {steps}] (the padded length); got {bad.tolist()}")
        return lengths

    def forward(
        self,
        input: Tensor | PackedSequence,
        hx: Tensor | tuple[Tensor, Tensor] | None = None,
        *,
        lengths: Tensor | list[int] | None = None,
        return_gates: bool = False,
    ):
        recorder = self.__dict__.get("_recorder")  # set by rnnlab.inspection.trace.record(): keep a Trace
        use_loop = recorder is not None or self._check_impl(return_gates)
        record = return_gates or recorder is not None
        owner = type(self).__name__
        packed = isinstance(input, PackedSequence)
        if packed:
            if lengths is not None:
                raise ValueError("pass lengths= with a padded tensor, not with a PackedSequence (it has its own)")
            checks.feature_size(input.data, self.input_size, owner)
            batch, unbatched = int(input.batch_sizes[0]), False
            like = input.data
        else:
            if input.dim() not in (2, 3):
                raise ValueError(f"{owner} expects a 3-D (or unbatched 2-D) input, got shape {tuple(input.shape)}")
            checks.feature_size(input, self.input_size, owner)
            unbatched = input.dim() == 2
            if unbatched:
                input = input.unsqueeze(0 if self.batch_first else 1)
            batch = input.shape[0 if self.batch_first else 1]
            like = input
        state = self._initial_state(hx, batch, like, unbatched)

        trace = None
        if not use_loop and self._hand_fused(like):  # the GRU on a CPU: rnnlab's own fused layer
            if packed:
                padded, pack_lengths = pad_packed_sequence(input)  # (T, B, I) in the caller's batch order
                out, final = self._run_hand_fused(padded, state, pack_lengths, batch_first=False)
                order = input.sorted_indices
                out_sorted = out if order is None else out[:, order]
                lengths_sorted = pack_lengths if order is None else pack_lengths[order]
                data = pack_padded_sequence(out_sorted, lengths_sorted).data
                output = PackedSequence(data, input.batch_sizes, input.sorted_indices, input.unsorted_indices)
            else:
                steps = input.shape[1 if self.batch_first else 0]
                checked = None if lengths is None else self._lengths(lengths, batch, steps)
                output, final = self._run_hand_fused(input, state, checked, batch_first=self.batch_first)
        elif packed and use_loop:
            padded, pack_lengths = pad_packed_sequence(input)  # (T, B, I) in the caller's batch order
            out, final, trace = self._run_loop(padded, state, pack_lengths, record, batch_first=False)
            order = input.sorted_indices
            out_sorted = out if order is None else out[:, order]  # (T, B, D*H) longest first
            data = pack_padded_sequence(out_sorted, pack_lengths if order is None else pack_lengths[order]).data
            output = PackedSequence(data, input.batch_sizes, input.sorted_indices, input.unsorted_indices)
        elif packed:
            output, final = self._run_fused(input, _permute(state, input.sorted_indices))
            output = PackedSequence(output, input.batch_sizes, input.sorted_indices, input.unsorted_indices)
            final = _permute(final, input.unsorted_indices)
        elif lengths is not None:
            steps = input.shape[1 if self.batch_first else 0]
            lengths = self._lengths(lengths, batch, steps)
            if use_loop:
                output, final, trace = self._run_loop(input, state, lengths, record, batch_first=self.batch_first)
            else:
                seq = pack_padded_sequence(input, lengths, batch_first=self.batch_first, enforce_sorted=False)
                out_packed, final = self._run_fused(seq, _permute(state, seq.sorted_indices))
                out_packed = PackedSequence(out_packed, seq.batch_sizes, seq.sorted_indices, seq.unsorted_indices)
                output, _ = pad_packed_sequence(out_packed, batch_first=self.batch_first, total_length=steps)
                final = _permute(final, seq.unsorted_indices)
        elif use_loop:
            output, final, trace = self._run_loop(input, state, None, record, batch_first=self.batch_first)
        else:
            output, final = self._run_fused(input, state)

        if unbatched:
            output = output.squeeze(0 if self.batch_first else 1)
            final = tuple(s.squeeze(1) for s in final)
        result = (output, final if self.state_count == 2 else final[0])
        self._record(trace, input)
        return (*result, trace) if return_gates else result


def _reverse(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Each sequence of ``x`` ``(T, B, F)`` reversed within its length (the padding stays where it is)."""
    if lengths is None:
        return x.flip(0)
    lengths = lengths.to(x.device)
    steps = torch.arange(x.shape[0], device=x.device)[:, None]  # (T, 1)
    index = torch.where(steps < lengths[None, :], lengths[None, :] - 1 - steps, steps)  # (T, B)
    return x.gather(0, index.unsqueeze(-1).expand_as(x))


def _permute(state: State, order: Tensor | None) -> State:
    """Reorder the batch dimension of each ``(D*L, B, H)`` state (packed sequences sort their batch)."""
    return state if order is None else tuple(s.index_select(1, order) for s in state)


class RNN(_RecurrentLayer):
    r"""Elman RNN layer: :math:`h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})`, :math:`\phi` = tanh or relu.

    Same parameters and call as ``torch.nn.RNN``, plus ``impl``, ``lengths=`` and ``return_gates`` (records ``h``).
    """

    gate_count = 1

    def __init__(self, input_size: int, hidden_size: int, *, nonlinearity: str = "tanh", **kwargs: Any) -> None:
        self.nonlinearity = checks.one_of("nonlinearity", nonlinearity, ("tanh", "relu"))
        self.cell = f"rnn_{nonlinearity}"
        super().__init__(input_size, hidden_size, **kwargs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "nonlinearity": self.nonlinearity}

    def _step(self, x_proj, state, w_hh, b_hh, record):
        return (rf.rnn_step(x_proj, state[0], w_hh, b_hh, nonlinearity=self.nonlinearity),), None

    def _fused_kernel(self):
        return _VF.rnn_tanh if self.nonlinearity == "tanh" else _VF.rnn_relu


class LSTM(_RecurrentLayer):
    r"""LSTM layer, gate rows i, f, g, o as in ``torch.nn.LSTM``.

    .. math::
        c_t = f_t \odot c_{t-1} + i_t \odot g_t,\qquad h_t = o_t \odot \tanh(c_t)

    Same parameters and call as ``torch.nn.LSTM`` (no ``proj_size``), plus ``impl``, ``lengths=`` and
    ``return_gates`` (records i, f, g, o, c, h).
    """

    gate_count = 4
    state_count = 2
    cell = "lstm"

    def _step(self, x_proj, state, w_hh, b_hh, record):
        if record:
            h, c, gates = rf.lstm_step(x_proj, state[0], state[1], w_hh, b_hh, return_gates=True)
            return (h, c), gates._asdict()
        return rf.lstm_step(x_proj, state[0], state[1], w_hh, b_hh), None

    def _fused_kernel(self):
        return _VF.lstm


class GRU(_RecurrentLayer):
    r"""GRU layer, gate rows r, z, n as in ``torch.nn.GRU`` (the reset gate multiplies ``W_hn h + b_hn``).

    .. math::
        n_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})),\qquad
        h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}

    Same parameters and call as ``torch.nn.GRU``, plus ``impl``, ``lengths=`` and ``return_gates`` (records r, z, n, h).
    """

    gate_count = 3
    fold_hh_bias = False
    cell = "gru"

    def _step(self, x_proj, state, w_hh, b_hh, record):
        if record:
            h, gates = rf.gru_step(x_proj, state[0], w_hh, b_hh, return_gates=True)
            return (h,), gates._asdict()
        return (rf.gru_step(x_proj, state[0], w_hh, b_hh),), None

    def _fused_kernel(self):
        return _VF.gru

    def _hand_fused(self, like: Tensor) -> bool:
        """On a CPU with the C++ loop built (``bench/bench_speed.py``: 1.1-10× torch's GRU from B1 to B256, T10 to
        T1000); the Python twin of that loop is slower than torch's, so without the extension torch's GRU runs."""
        from rnnlab.nn.fused_gru import extension

        return self.impl in ("auto", "fused") and like.device.type == "cpu" and extension() is not None

    def _direction_pass(self, x, h0, weights, mask, lengths):
        """:func:`rnnlab.nn.fused_gru.gru_direction`, the hand-fused GRU."""
        from rnnlab.nn.fused_gru import gru_direction

        return gru_direction(x, h0, *weights, mask)
