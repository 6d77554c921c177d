"""The translation jobs behind ``rnnlab translate train | run``.

``train``: pairs (a TSV, or a built-in generated set) → split by source sentence → vocabularies → a
:class:`~rnnlab.models.seq2seq.Seq2Seq` trained by the fit loop (teacher forcing, optionally scheduled) → the test set
translated greedily and with beam search, scored side by side with sacrebleu's corpus BLEU and chrF and the exact-match
rate. All the translations of a test source sentence are its references. The run folder gets ``best.safetensors``
(weights, model config, vocabularies), ``source_vocab.json`` / ``target_vocab.json``, ``metrics.jsonl``,
``evaluation.json``, ``translations.tsv`` and ``report.html`` (with attention maps).

``run``: a checkpoint and sentences → translations (``n_best`` each with beam search), and attention maps.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnlab.checkpoint import atomic_write_text, fingerprint
from rnnlab.data.pairs import Pair
from rnnlab.data.text import BOS, EOS
from rnnlab.decoding import check_beam, greedy_search
from rnnlab.errors import RnnlabError
from rnnlab.models.seq2seq import Seq2Seq, Seq2SeqConfig
from rnnlab.models.translator import TASK, Tokenizer, Translation, Translator, collate, encode_pairs, log_step
from rnnlab.train import TrainConfig, fit


class TranslationTask:
    """The :class:`~rnnlab.train.TrainingTask` of translation: shuffled batches of pairs; the teacher-forcing ratio
    moves linearly from ``teacher_forcing[0]`` (first epoch) to ``teacher_forcing[1]`` (last epoch). The training loss
    may smooth the labels (``label_smoothing`` ε: the target gets 1 − ε, the rest ε spread evenly; Szegedy et al. 2016);
    the validation loss never does."""

    def __init__(self, train, val, *, bos: int, eos: int, batch_size: int, epochs: int, teacher_forcing=(1.0, 1.0),
                 label_smoothing: float = 0.0):  # fmt: skip
        self.train, self.val, self.bos, self.eos, self.batch = train, val, bos, eos, batch_size
        self.label_smoothing = label_smoothing
        self.epochs, self.schedule, self.ratio = epochs, teacher_forcing, teacher_forcing[0]
        self.generator = torch.Generator().manual_seed(0)

    def fingerprint(self) -> str:
        return fingerprint([torch.tensor([*s, -1, *t]) for s, t in [*self.train, *self.val]])

    def batches(self, epoch: int, generator: torch.Generator) -> list[list[int]]:
        start, end = self.schedule
        self.ratio = start + (end - start) * (epoch - 1) / max(self.epochs - 1, 1)
        self.generator.manual_seed(int(torch.randint(0, 2**31, (1,), generator=generator)))
        order = torch.randperm(len(self.train), generator=generator).tolist()
        return [order[i : i + self.batch] for i in range(0, len(order), self.batch)]

    def loss(self, model: nn.Module, batch: list[int], state: Any) -> tuple[Tensor, Any]:
        source, lengths, target_in, target_out = collate([self.train[i] for i in batch], self.bos)
        logits, _ = model(source, lengths, target_in, teacher_forcing=self.ratio, generator=self.generator)
        loss = nn.functional.cross_entropy(logits.flatten(0, 1), target_out.flatten(), ignore_index=0,
                                           label_smoothing=self.label_smoothing)  # fmt: skip
        return loss, None

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        total, count, exact = 0.0, 0, 0
        for i in range(0, len(self.val), 256):
            source, lengths, target_in, target_out = collate(self.val[i : i + 256], self.bos)
            state = model.start(source, lengths)  # encoded once: for the loss and for greedy decoding
            logits, _ = model.decode(state, target_in)  # (B, T, V)
            total += nn.functional.cross_entropy(logits.flatten(0, 1), target_out.flatten(), ignore_index=0,
                                                 reduction="sum").item()  # fmt: skip
            count += int((target_out > 0).sum())
            greedy = greedy_search(lambda p, s: log_step(model, p, s), state, len(source),
                                   bos=self.bos, eos=self.eos, max_length=target_out.shape[1] + 5)  # fmt: skip
            exact += sum(h.tokens == self.val[i + b][1][:-1] for b, h in enumerate(greedy))
        return {"val_loss": total / count, "val_exact": exact / len(self.val)}

    def batch_size(self, batch: list[int]) -> int:
        return len(batch)  # sentence pairs


def score_translations(hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> dict[str, float]:
    """Corpus BLEU and chrF (sacrebleu) and exact match, for one hypothesis and one or more references each."""
    import sacrebleu

    most = max(len(r) for r in references)
    streams = [[refs[j] if j < len(refs) else refs[0] for refs in references] for j in range(most)]  # pad by repeating
    bleu = sacrebleu.corpus_bleu(list(hypotheses), streams, force=True)  # tokenised on purpose: both sides alike
    chrf = sacrebleu.corpus_chrf(list(hypotheses), streams)
    exact = np.mean([h in refs for h, refs in zip(hypotheses, references, strict=True)])
    return {"bleu": bleu.score, "chrf": chrf.score, "exact": float(exact)}


def evaluate_test(translator: Translator, test: Sequence[Pair], *, beams: Sequence[int], alpha: float = 0.6):
    """Per beam size: scores on the distinct test sources (all their translations as references), and translations."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for pair in test:
        grouped[pair.source].append(translator.tokenizer.reference_text(pair.target))
    sources = list(grouped)
    references = [sorted(set(grouped[s])) for s in sources]
    results, outputs = {}, {}
    for beam in beams:
        start = time.perf_counter()
        translations = [t[0] for t in translator.translate(sources, beam=beam, alpha=alpha)]
        results[beam] = score_translations([t.text for t in translations], references)
        results[beam]["seconds"] = time.perf_counter() - start
        outputs[beam] = translations
    return sources, references, results, outputs


def train_translation(
    train: Sequence[Pair],
    val: Sequence[Pair],
    test: Sequence[Pair],
    *,
    level: str,
    model_config: dict[str, Any],
    train_config: TrainConfig,
    run_dir: str | Path,
    source: str,
    max_vocab: int | None = None,
    max_length: int = 50,
    batch_size: int = 64,
    teacher_forcing: tuple[float, float] = (1.0, 1.0),
    label_smoothing: float = 0.0,
    beam: int = 5,
    alpha: float = 0.6,
    resume: bool = False,
    log: Callable[[str], None] = print,
) -> tuple[Translator, dict[str, Any]]:
    """Train on ``train`` (early stopping on ``val``), evaluate greedy and beam search on ``test``."""
    check_beam(beam, 1)
    run_dir = Path(run_dir)
    tokenizer = Tokenizer.build(train, level=level, max_vocab=max_vocab)
    kept = [(s, t) for s, t in encode_pairs(tokenizer, train) if len(s) <= max_length and len(t) - 1 <= max_length]
    if not kept:
        raise RnnlabError(f"no training pair has at most {max_length} tokens per side; raise --max-length")
    config = Seq2SeqConfig(source_vocab=len(tokenizer.source_vocab), target_vocab=len(tokenizer.target_vocab),
                           **model_config)  # fmt: skip
    torch.manual_seed(train_config.seed)
    model = Seq2Seq(config)
    bos = tokenizer.target_vocab.id(BOS)
    task = TranslationTask(kept, encode_pairs(tokenizer, val), bos=bos,
                           eos=tokenizer.target_vocab.id(EOS), batch_size=batch_size,
                           epochs=train_config.epochs, teacher_forcing=teacher_forcing,
                           label_smoothing=label_smoothing)  # fmt: skip
    parameters = sum(p.numel() for p in model.parameters())
    log(f"{source}: {len(kept):,} training pairs ({len(train) - len(kept):,} longer than {max_length} tokens left "
        f"out), "
        f"{len(val):,} validation, {len(test):,} test; {level} level, vocabularies {len(tokenizer.source_vocab):,} → "
        f"{len(tokenizer.target_vocab):,}; {config.cell}, {config.attention} attention, "
        f"{parameters:,} parameters")  # fmt: skip
    metadata = {"task": TASK, "model": config.to_dict(), "tokenizer": tokenizer.to_dict(), "data": {"source": source}}
    result = fit(model, task, train_config, run_dir, metadata=metadata, resume=resume, log=log)
    atomic_write_text(run_dir / "source_vocab.json", tokenizer.source_vocab.to_json())  # after fit: it refuses a
    atomic_write_text(run_dir / "target_vocab.json", tokenizer.target_vocab.to_json())  # run dir already in use
    translator = Translator(model, tokenizer)
    beams = [1] if beam == 1 else [1, beam]
    sources, references, scores, outputs = evaluate_test(translator, test, beams=beams, alpha=alpha)
    named = {f"beam {b}" if b > 1 else "greedy": s for b, s in scores.items()}
    summary = {"best_epoch": result.best_epoch, **result.best, "train_seconds": result.seconds,
               "test_sources": len(sources), "test": named}  # fmt: skip
    log(format_scores(summary["test"]))
    atomic_write_text(run_dir / "evaluation.json", json.dumps(summary, indent=2))
    rows = ["source\treferences\t" + "\t".join(summary["test"])]
    rows += [f"{s}\t{' | '.join(r)}\t" + "\t".join(outputs[b][i].text for b in beams)
             for i, (s, r) in enumerate(zip(sources, references, strict=True))]  # fmt: skip
    atomic_write_text(run_dir / "translations.tsv", "\n".join(rows) + "\n")
    write_report(run_dir, result.history, summary, metadata, sources, references, outputs)
    return translator, summary


def format_scores(scores: dict[str, dict[str, float]]) -> str:
    lines = [f"{'decoding':<10}{'BLEU':>8}{'chrF':>8}{'exact':>8}{'time s':>8}", "-" * 42]
    for name, s in scores.items():
        lines.append(f"{name:<10}{s['bleu']:>8.2f}{s['chrf']:>8.2f}{s['exact']:>8.3f}{s['seconds']:>8.1f}")
    return "\n".join(lines)


def attention_figure(translation: Translation, title: str = "attention"):
    """The attention map of one translation: a row per output token (and </s>), a column per source token."""
    from rnnlab.inspection.plots import attention_heatmap

    if translation.attention is None:
        raise RnnlabError("this translation carries no attention weights")
    target = [*translation.tokens, EOS] if translation.finished else translation.tokens
    visible = lambda tokens: ["␣" if t == " " else t for t in tokens]  # noqa: E731 (a space shows as ␣)
    weights = translation.attention[: len(target), : len(translation.source_tokens)]  # padding columns dropped
    return attention_heatmap(weights, visible(translation.source_tokens), visible(target),
                             title=title)  # fmt: skip


def write_report(run_dir: Path, history, summary, metadata, sources, references, outputs) -> Path:
    from rnnlab.inspection.plots import figure_png, training_curves
    from rnnlab.inspection.report import Report

    report = Report(title=f"translate: {metadata['data']['source']}, {metadata['model']['cell']}, "
                          f"{metadata['model']['attention']} attention")  # fmt: skip
    report.config = {"model": metadata["model"], "level": metadata["tokenizer"]["level"], "data": metadata["data"]}
    header = ["decoding", "BLEU", "chrF", "exact match", "seconds"]
    rows = [[name, s["bleu"], s["chrf"], s["exact"], s["seconds"]] for name, s in summary["test"].items()]
    report.table(f"test set: {summary['test_sources']} distinct source sentences (sacrebleu corpus BLEU and chrF)",
                 header, rows)  # fmt: skip
    if history:
        report.figure("training curves", figure_png(training_curves(history, title="translation")))
    best = max(outputs)  # the widest beam
    name = "greedy" if best == 1 else f"beam {best}"
    picks = sorted(range(len(sources)), key=lambda i: (-len(outputs[best][i].source_tokens), i))[:3]
    picks += list(range(min(3, len(sources))))
    lines = []
    for i in dict.fromkeys(picks):
        translation = outputs[best][i]
        report.figure(f"attention ({name}): {sources[i]} → {translation.text}",
                      figure_png(attention_figure(translation)))  # fmt: skip
    for i in range(min(20, len(sources))):
        lines.append(f"{sources[i]}\n  model:     {outputs[best][i].text}\n  reference: {' | '.join(references[i])}")
    report.text(f"test translations ({name})", "\n".join(lines))
    return report.write(run_dir / "report.html")
