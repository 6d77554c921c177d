"""``rnnlab export``: a trained network as ONNX (for onnxruntime) or TorchScript, beside a JSON of what it needs.

What is exported, per task (the networks only; the data preparation around them is described in ``export.json``):

- forecast: each ensemble member's network, ``window (B, L, F)`` in model space → ``(B, outputs, K)``; the JSON holds
  the features' order and each member's series transform (scales, base, lookback), so a runtime can prepare windows;
- classify: the text classifier's network, ``ids (B, T)`` and ``lengths (B,)`` → logits ``(B, C)``; the JSON holds
  the vocabulary and the classes;
- text: the language model's single step, ``ids (B, 1)`` and the state → ``logits (B, 1, V)`` and the new state, so
  generation runs in onnxruntime with the state carried; the JSON holds the vocabulary;
- translate: the encoder (``source (B, S)``, ``lengths`` → the attention memory and the decoder's first state) and
  the decoder's step (previous token and state → logits, attention weights, next state), so greedy or beam search
  runs outside Python training code; the JSON holds the tokenizer.

Other tasks are refused with a one-line error. GRUs are exported through torch's GRU (the same Parameters; rnnlab's
hand-fused CPU kernel is a custom autograd function that ONNX cannot express). MinGRU and MinLSTM run their step loop
unrolled at the traced length: the forecaster's window and the language model's step have a fixed length and export;
a classifier or translation model over them is refused (its inputs have a free length). ``tests/test_export.py``
runs every kind in onnxruntime against rnnlab on random inputs.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from rnnlab.checkpoint import atomic_write_text
from rnnlab.errors import RnnlabError

FORMATS = ("onnx", "torchscript")


@contextlib.contextmanager
def torch_kernels(model: nn.Module):
    """Every rnnlab layer of ``model`` on torch's own kernels (impl 'torch') while exporting; a MinGRU or MinLSTM,
    whose scans are custom autograd functions, on its step loop (plain tensor operations, unrolled over the traced
    length, which is why only fixed-length graphs of them are exported)."""
    from rnnlab.nn.layers import _RecurrentLayer
    from rnnlab.nn.minimal import _MinimalLayer

    layers = [m for m in model.modules() if isinstance(m, _RecurrentLayer)]
    saved = [m.impl for m in layers]
    for m in layers:
        m.impl = "loop" if isinstance(m, _MinimalLayer) else "torch"
    try:
        yield
    finally:
        for m, impl in zip(layers, saved):
            m.impl = impl


class _Window(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, window: Tensor) -> Tensor:
        return self.net(window)[0]


class _Encoder(nn.Module):
    """The translation model's encoder: source ids and lengths → the decoder's first state, flattened."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, source: Tensor, lengths: Tensor):
        state = self.model.start(source, lengths)
        rnn = state.rnn if isinstance(state.rnn, tuple) else (state.rnn,)
        return (*state.memory, state.feed, *rnn)  # keys, projected, mask, feed, h[, c]


class _DecoderStep(nn.Module):
    """One decoding step: the previous token and the flattened state → logits, attention and the next state."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.lstm = model.config.cell == "lstm"

    def forward(self, previous: Tensor, keys: Tensor, projected: Tensor, mask: Tensor, feed: Tensor, h: Tensor,
                c: Tensor | None = None):  # fmt: skip
        from rnnlab.models.seq2seq import DecoderState
        from rnnlab.nn.attention import Memory

        state = DecoderState((h, c) if self.lstm else h, feed, Memory(keys, projected, mask))
        logits, following, weights = self.model.step(previous, state)
        rnn = following.rnn if self.lstm else (following.rnn,)
        return (logits, weights, following.feed, *rnn)


class _Step(nn.Module):
    """A language model's one step with an explicit state: LSTM ``(h, c)``, others ``h``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.lstm = model.config.cell == "lstm"

    def forward(self, ids: Tensor, h: Tensor, c: Tensor | None = None):
        logits, state = self.model(ids, (h, c) if self.lstm else h)
        return (logits, *state) if self.lstm else (logits, state)


def _write(module: nn.Module, inputs: tuple, names: list[str], outputs: list[str], dynamic: dict, path: Path,
           fmt: str) -> Path:  # fmt: skip
    module = module.eval()
    temporary = path.with_name(f".{path.name}.tmp")
    with torch_kernels(module), warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        if fmt == "onnx":
            torch.onnx.export(module, inputs, str(temporary), input_names=names, output_names=outputs,
                              dynamic_axes=dynamic, dynamo=False, opset_version=17)  # fmt: skip
        else:
            torch.jit.trace(module, inputs, check_trace=False).save(str(temporary))
    temporary.replace(path)
    return path


def export(checkpoint: str | Path, output: str | Path, fmt: str = "onnx", *, log=print) -> list[Path]:
    """Export the network(s) of ``checkpoint`` into the folder ``output``; returns the files written."""
    from rnnlab.tasks.serve import checkpoint_task

    if fmt not in FORMATS:
        raise RnnlabError(f"format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    folder = Path(checkpoint) if Path(checkpoint).is_dir() else Path(checkpoint).parent
    task = checkpoint_task(checkpoint)  # a pickle or foreign file is refused here, never unpickled
    if task not in ("forecast", "classify", "text", "translate"):
        raise RnnlabError(f"export takes forecast, classify, text and translate checkpoints; {folder} is a '{task}' "
                          "checkpoint")  # fmt: skip
    _refuse_free_length_minimal(folder, task)
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    suffix = ".onnx" if fmt == "onnx" else ".pt"
    written: list[Path] = []
    description: dict[str, Any] = {"task": task, "format": fmt, "checkpoint": str(folder)}
    if task == "forecast":
        from rnnlab.models.forecaster import Forecaster

        model = Forecaster.load(folder / "best.safetensors")
        description["members"] = []
        for number, member in enumerate(model.members):
            width = member.net.rnn.input_size
            window = torch.randn(2, member.config.lookback, width)
            dynamic = {"window": {0: "batch"}, "forecast": {0: "batch"}}
            path = _write(_Window(member.net), (window,), ["window"], ["forecast"], dynamic,
                          out / f"member-{number}{suffix}", fmt)  # fmt: skip
            written.append(path)
            description["members"].append({"file": path.name, "lookback": member.config.lookback, "inputs": width,
                                           "config": member.config.__dict__,
                                           "transform": _plain(member.transform)})  # fmt: skip
    elif task == "classify":
        from rnnlab.models.classifier import TextClassifier

        model = TextClassifier.load(folder / "best.safetensors")
        ids = torch.randint(1, len(model.vocab), (2, 12))
        lengths = torch.tensor([12, 7])
        written.append(_write(model.net, (ids, lengths), ["ids", "lengths"], ["logits"],
                              {"ids": {0: "batch", 1: "steps"}, "lengths": {0: "batch"}, "logits": {0: "batch"}},
                              out / f"classifier{suffix}", fmt))  # fmt: skip
        description.update(classes=list(model.classes), vocabulary=list(model.vocab.tokens),
                           max_length=model.max_length)  # fmt: skip
    elif task == "translate":
        from rnnlab.models.translator import Translator

        translator = Translator.load(folder / "best.safetensors")
        model = translator.model.eval()
        lstm = model.config.cell == "lstm"
        source, lengths = torch.randint(1, model.config.source_vocab, (2, 7)), torch.tensor([7, 4])
        state_names = ["h", *(["c"] if lstm else [])]
        encoder_out = ["keys", "projected", "mask", "feed", *state_names]
        dynamic = {"source": {0: "batch", 1: "steps"}, "lengths": {0: "batch"}, "keys": {0: "batch", 1: "steps"},
                   "projected": {0: "batch", 1: "steps"}, "mask": {0: "batch", 1: "steps"}, "feed": {0: "batch"},
                   **{n: {1: "batch"} for n in state_names}}  # fmt: skip
        written.append(_write(_Encoder(model), (source, lengths), ["source", "lengths"], encoder_out, dynamic,
                              out / f"encoder{suffix}", fmt))  # fmt: skip
        with torch.no_grad(), torch_kernels(model):
            first = _Encoder(model)(source, lengths)
        previous = torch.tensor([1, 2])
        step_in = ["previous", "keys", "projected", "mask", "feed", *state_names]
        step_out = ["logits", "attention", "feed_next", *[f"{n}_next" for n in state_names]]
        dynamic = {"previous": {0: "batch"}, "keys": {0: "batch", 1: "steps"}, "projected": {0: "batch", 1: "steps"},
                   "mask": {0: "batch", 1: "steps"}, "feed": {0: "batch"}, "logits": {0: "batch"},
                   "attention": {0: "batch", 1: "steps"}, "feed_next": {0: "batch"},
                   **{n: {1: "batch"} for n in state_names},
                   **{f"{n}_next": {1: "batch"} for n in state_names}}  # fmt: skip
        written.append(_write(_DecoderStep(model), (previous, *first), step_in, step_out, dynamic,
                              out / f"decoder_step{suffix}", fmt))  # fmt: skip
        description.update(tokenizer=translator.tokenizer.to_dict(), cell=model.config.cell)
    else:  # text
        from rnnlab.tasks.text import load_language_model

        model, vocab, level = load_language_model(folder / "best.safetensors")
        config = model.config
        h = torch.zeros(config.num_layers, 2, config.hidden_size)
        inputs = (torch.randint(0, config.vocab_size, (2, 1)), h, *((h.clone(),) if config.cell == "lstm" else ()))
        names = ["ids", "h", *(["c"] if config.cell == "lstm" else [])]
        outputs = ["logits", "h_next", *(["c_next"] if config.cell == "lstm" else [])]
        dynamic = {name: ({0: "batch"} if name in ("ids", "logits") else {1: "batch"}) for name in names + outputs}
        written.append(_write(_Step(model), inputs, names, outputs, dynamic, out / f"step{suffix}", fmt))
        description.update(level=level, vocabulary=list(vocab.tokens), cell=config.cell,
                           layers=config.num_layers, hidden_size=config.hidden_size)  # fmt: skip
    atomic_write_text(out / "export.json", json.dumps(description, indent=2, default=str) + "\n")
    log(f"exported {task} as {fmt}: " + ", ".join(p.name for p in written) + f" and export.json in {out}")
    return written


def _refuse_free_length_minimal(folder: Path, task: str) -> None:
    """A classifier or translation model over MinGRU/MinLSTM layers cannot be traced for inputs of any length."""
    if task not in ("classify", "translate"):
        return
    from rnnlab.checkpoint import load_checkpoint

    _, metadata = load_checkpoint(folder / "best.safetensors")
    cell = metadata.get("model", {}).get("cell")
    if cell in ("mingru", "minlstm"):
        raise RnnlabError(f"{folder} is a {task} model over {cell} layers, whose scan has no ONNX or TorchScript form "
                          "for inputs of any length; export takes lstm, gru and rnn models for this task")  # fmt: skip


def _plain(value: Any) -> Any:
    """A transform's fields as JSON-able values."""
    import numpy as np

    if hasattr(value, "__dict__"):
        return {k: _plain(v) for k, v in vars(value).items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value
