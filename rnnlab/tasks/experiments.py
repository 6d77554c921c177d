"""The jobs behind ``rnnlab inspect``, ``rnnlab experiment memory|gradients`` and ``rnnlab compare``."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from rnnlab.checkpoint import atomic_write_bytes, atomic_write_text, load_checkpoint
from rnnlab.errors import RnnlabError
from rnnlab.experiments.memory import MemoryConfig, format_table, run_one, run_sweep, sweep_plot
from rnnlab.inspection.plots import figure_png, gate_heatmaps, gradient_flow_plot, hidden_states
from rnnlab.inspection.trace import gradient_flow, trace_model, vanishing_gradients
from rnnlab.nn import LAYERS


def memory_job(config: MemoryConfig, out_dir: str | Path, log=print) -> list:
    out_dir = Path(out_dir)
    results = run_sweep(config, log)
    log("\n" + format_table(results, config.task))
    atomic_write_bytes(out_dir / "memory.png", figure_png(sweep_plot(results, config.task)))
    document = {"config": asdict(config), "results": [asdict(r) for r in results]}
    atomic_write_text(out_dir / "memory.json", json.dumps(document, indent=2))
    log(f"\nwrote {out_dir / 'memory.png'} and memory.json; total {sum(r.seconds for r in results):.0f} s")
    return results


def gradients_job(*, hidden_size: int, steps: int, out_dir: str | Path, log=print) -> dict[str, dict[str, np.ndarray]]:
    """‖∂L/∂h_t‖ of untrained RNN, LSTM and GRU for both initialisations; one figure each."""
    out_dir = Path(out_dir)
    curves = {}
    log(f"untrained cells, hidden {hidden_size}, T = {steps}, loss at the last step, float64; ‖∂L/∂h_1‖:")
    for init in ("keras", "torch"):
        curves[init] = vanishing_gradients(hidden_size=hidden_size, steps=steps, init=init)
        first = {cell: float(c[0]) for cell, c in curves[init].items()}
        log(f"  {init + ' init':<11} " + "  ".join(f"{cell} {v:.2e}" for cell, v in first.items())
            + f"   lstm / rnn = {first['lstm'] / max(first['rnn'], 1e-300):.1e}")  # fmt: skip
        title = f"gradient flow, untrained, {init} initialisation (T={steps}, H={hidden_size})"
        atomic_write_bytes(out_dir / f"gradients-{init}.png", figure_png(gradient_flow_plot(curves[init], title=title)))
    log(f"wrote {out_dir}/gradients-keras.png and gradients-torch.png")
    return curves


def _encode_text(text: str) -> tuple[torch.Tensor, list[str]]:
    """One-hot characters ``(1, T, V)`` and the characters, for an untrained model."""
    vocabulary = sorted(set(text))
    index = torch.tensor([vocabulary.index(ch) for ch in text])
    visible = {" ": "␣", "\n": "⏎", "\t": "⇥"}
    return torch.nn.functional.one_hot(index, len(vocabulary)).float()[None], [visible.get(c, c) for c in text]


def inspect_job(
    *,
    checkpoint: str | None,
    cell: str | None,
    hidden_size: int,
    text: str | None,
    data: str | None,
    example: str | None,
    out_dir: str | Path,
    log=print,
) -> Path:
    """Gate heatmaps, hidden states and gradient flow of one input through a trained or untrained model."""
    out_dir = Path(out_dir)
    if (checkpoint is None) == (cell is None):
        raise RnnlabError("give either --checkpoint (a trained model) or --cell (an untrained one)")
    if checkpoint is not None:
        model, x, labels = _checkpoint_input(checkpoint, data or example)
    else:
        if text is not None:
            if not text:
                raise RnnlabError("--text is empty; give at least one character")
            x, labels = _encode_text(text)
        else:
            values = _series_values(data or example or "sine", 48)
            x, labels = torch.tensor(values[None, :, None], dtype=torch.float32), [f"{v:.3g}" for v in values]
        torch.manual_seed(0)
        model = LAYERS[cell](x.shape[-1], hidden_size, batch_first=True)
    traces = trace_model(model, x)
    first = traces[0].trace[0, 0]
    gates = {k: v[0].numpy() for k, v in first.items() if k != "h"}
    if gates:
        atomic_write_bytes(out_dir / "gates.png", figure_png(gate_heatmaps(gates, labels=labels)))
    atomic_write_bytes(out_dir / "hidden.png", figure_png(hidden_states(first["h"][0].numpy(), labels=labels)))
    flow = gradient_flow(model, x)
    curves = {f"{name} layer {layer}" + (" reverse" if d else ""): v for (name, layer, d), v in flow.items()}
    atomic_write_bytes(out_dir / "gradients.png", figure_png(gradient_flow_plot(curves)))
    written = [n for n in ("gates.png", "hidden.png", "gradients.png") if (out_dir / n).exists()]
    log(f"{len(labels)} steps; wrote {', '.join(written)} to {out_dir}")
    return out_dir


def _series_values(source: str, length: int) -> np.ndarray:
    from rnnlab.tasks.forecast import DataOptions, load_data

    frame, spec, name, _ = load_data(DataOptions(source))
    values = frame[spec.targets[0]].to_numpy(dtype=np.float64)[-length:]
    if not np.isfinite(values).all():
        raise RnnlabError(f"the last {length} values of {name} are not all numbers")
    return values


def _checkpoint_input(checkpoint: str, source: str | None):
    from rnnlab.models.forecaster import Forecaster

    _, meta = load_checkpoint(checkpoint)
    if meta.get("task") != "forecast":
        raise RnnlabError(f"rnnlab inspect reads forecast checkpoints for now; {checkpoint} is '{meta.get('task')}'")
    if source is None:
        raise RnnlabError("say which series to read the input window from: --data FILE or a built-in name")
    from rnnlab.tasks.forecast import DataOptions, load_data

    forecaster = Forecaster.load(checkpoint)
    spec = forecaster.spec
    frame, _, name, _ = load_data(DataOptions(source, spec.targets, spec.time, spec.covariates, spec.fill))
    data = forecaster._data(frame, name)
    features = data.features(forecaster.transform)
    lookback = forecaster.members[0].config.lookback
    if len(features) < lookback + forecaster.transform.warmup:
        raise RnnlabError(f"{name} has {len(features)} rows; the model reads windows of {lookback}")
    window = torch.from_numpy(features[-lookback:])[None]
    labels = [f"{v:.4g}" for v in data.series.targets[-lookback:, 0]]
    return forecaster.net, window, labels


def compare_job(task: str, *, length: int, max_steps: int, data: str, epochs: int, out_dir: str | Path, log=print):
    """RNN, LSTM and GRU on the same task, data and budget, side by side."""
    if task in ("adding", "copy"):
        config = MemoryConfig(task=task, lengths=(length,), max_steps=max_steps)
        log(f"{task}, T = {length}, at most {max_steps} steps each, same seed and data")
        results = [run_one(cell, length, config, log=lambda s: None) for cell in config.cells]
        models = {cell: sum(p.numel() for p in _memory_params(cell, task)) for cell in config.cells}
        metric = "test MSE" if task == "adding" else "test CE"
        log(f"{'cell':<6}{metric:>11}{'solved':>8}{'steps':>8}{'params':>9}{'time s':>9}")
        for r in results:
            log(f"{r.cell:<6}{r.metric:>11.4f}{'yes' if r.solved else 'no':>8}{r.steps_to_solve or '-':>8}"
                f"{models[r.cell]:>9,}{r.seconds:>9.1f}")  # fmt: skip
        return results
    if task == "forecast":
        from rnnlab.evaluation import format_table as forecast_table
        from rnnlab.tasks.forecast import DEMO_CONFIG, DataOptions, train_run
        from rnnlab.train import TrainConfig

        rows = []
        for cell in ("rnn", "lstm", "gru"):
            config = replace(DEMO_CONFIG, cell=cell)
            if data != "electricity":  # the demo's weekly period belongs to electricity; elsewhere difference
                config = replace(config, base="last", period=0, cycles=())
            _, row, baselines = train_run(DataOptions(data), config, TrainConfig(epochs=epochs, progress=False),
                                          run_dir=Path(out_dir) / cell, log=lambda s: None)  # fmt: skip
            rows.append(row)
        log(forecast_table([*rows, *baselines], f"{data}: same data, budget ({epochs} epochs) and seed"))
        return rows
    raise RnnlabError(f"task must be forecast, adding or copy; got {task!r}")


def _memory_params(cell: str, task: str):
    from rnnlab.experiments.memory import COPY_SYMBOLS, MemoryNet

    inputs, outputs = (2, 1) if task == "adding" else (COPY_SYMBOLS + 2, COPY_SYMBOLS + 1)
    return MemoryNet(cell, inputs, MemoryConfig().hidden_size, outputs, task != "adding", "torch").parameters()
