"""The tagging jobs behind ``rnnlab tag train | evaluate | predict``.

``train`` reads tagged sequences (:mod:`rnnlab.data.tagged`: the WSJ sample by default, a CoNLL or word/TAG file, or
numeric sequences with a label per row), trains the BiLSTM(-CRF) tagger (:mod:`rnnlab.models.tagger`) and tags the
test part beside the baselines trained on the same split (:mod:`rnnlab.models.tag_baselines`). The run folder gets
``best.safetensors`` (weights; the configuration, words, characters and tags in its JSON), ``metrics.jsonl``,
``evaluation.json`` and ``report.html`` (the table, training curves, per-tag precision and recall, the most confused
tags, and test sentences with the wrong tags marked).
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path

import numpy as np

from rnnlab.checkpoint import atomic_write_text, check_output, run_folder
from rnnlab.data.tagged import (
    NUMERIC_BUILTIN,
    Tagged,
    anomaly_windows,
    interleaved_split,
    read_numeric_tagged,
    read_tagged,
    split_by_order,
    wsj_split,
)
from rnnlab.errors import RnnlabError
from rnnlab.metrics import tagging_metrics
from rnnlab.models.tag_baselines import baselines_for
from rnnlab.models.tagger import Tagger, TaggerConfig
from rnnlab.train import TrainConfig

NUMERIC_SUFFIXES = (".csv", ".parquet", ".pq")


# ----- data ------------------------------------------------------------------------------------------------------
def is_numeric(data: str) -> bool:
    return data == NUMERIC_BUILTIN or Path(data).suffix.lower() in NUMERIC_SUFFIXES


def load_splits(options: dict, log=print) -> tuple[Tagged, Tagged, Tagged, Tagged | None, list[str]]:
    """(train, validation, test, silver or None, the tag set) from the ``train`` options."""
    data = options.get("data") or "wsj"
    if is_numeric(data):
        if data == NUMERIC_BUILTIN:
            train, validation, test = interleaved_split(anomaly_windows())
        else:
            if not options.get("label"):
                raise RnnlabError(f"{data} is read as numeric sequences (a row per step): name the label column "
                                  "with --label, and the sequence id with --id")  # fmt: skip
            whole = read_numeric_tagged(data, label=options["label"], sequence_id=options.get("id"),
                                        features=options.get("features"),
                                        encoding=options.get("encoding", "utf-8"))  # fmt: skip
            train, validation, test = split_by_order(whole)
        tags = sorted(set(train.tag_set()))
        silver = None
    else:
        if data == "wsj" and not Path(data).exists():
            train, validation, test = wsj_split()
            tags = read_tagged("wsj").tag_set()  # the corpus's tag set: LS and SYM occur only after the training part
        else:
            whole = read_tagged(data, column=options.get("column"), encoding=options.get("encoding", "utf-8"))
            train, validation, test = split_by_order(whole)
            tags = None
        if options.get("validation"):
            validation = read_tagged(options["validation"], column=options.get("column"))
        if options.get("test"):
            test = read_tagged(options["test"], column=options.get("column"))
        silver = None
        if options.get("silver"):
            silver = read_tagged(options["silver"], column=options.get("column"))
            silver.tags = [[t.split("|")[0] for t in row] for row in silver.tags]  # 'NN|JJ': the first guess
            log(f"silver training data: {silver.source}, {len(silver):,} sentences, {silver.tokens():,} tokens")
        if tags is None:
            tags = sorted(set(train.tag_set()) | (set(silver.tag_set()) if silver else set()))
            check_known_tags(validation, tags)
            check_known_tags(test, tags)
    log(f"{train.source}: {len(train):,} / {len(validation):,} / {len(test):,} sequences for training / validation / "
        f"test ({train.tokens():,} / {validation.tokens():,} / {test.tokens():,} steps), {len(tags)} tags")  # fmt: skip
    return train, validation, test, silver, tags


def check_known_tags(part: Tagged, tags: list[str]) -> None:
    """A tag the training data never shows cannot be predicted: a one-line error naming it and where it is."""
    known = set(tags)
    for number, row in enumerate(part.tags, start=1):
        for tag in row:
            if tag not in known:
                raise RnnlabError(f"{part.source}: tag {tag!r} (sequence {number}) never occurs in the training data, "
                                  "so no model can predict it; add examples of it to the training data")  # fmt: skip


def unknown_mask(tagger_or_words, part: Tagged) -> list[list[bool]] | None:
    """Which test words the gold training data never showed (lower-cased), per sequence; None for numbers."""
    if part.numeric:
        return None
    known = tagger_or_words if isinstance(tagger_or_words, set) else tagger_or_words.known_words()
    return [[w.lower() not in known for w in words] for words in part.steps]


# ----- comparison ------------------------------------------------------------------------------------------------
def compare(tagger: Tagger, baselines: dict, test: Tagged, train: Tagged) -> dict[str, dict]:
    """The network and the baselines on the test part: token, sentence and unknown-word accuracy, macro-F1, and
    tokens tagged per second."""
    known = set() if train.numeric else {w.lower() for words in train.steps for w in words}
    unknown = unknown_mask(known, test)
    rows = {}
    for name, model in [(f"rnnlab ({tagger.config.cell}-{tagger.config.head})", tagger), *baselines.items()]:
        started = time.perf_counter()
        predicted = model.predict(test.steps)
        seconds = time.perf_counter() - started
        metrics = tagging_metrics(test.tags, predicted, unknown)
        metrics["tokens_per_second"] = test.tokens() / max(seconds, 1e-9)
        metrics["predicted"] = predicted
        rows[name] = metrics
    return rows


def format_rows(rows: dict[str, dict], title: str) -> str:
    unknown = any("unknown_accuracy" in r for r in rows.values())
    lines = [title, f"{'':30}{'token acc':>10}{'unknown':>9}{'sentence':>9}{'macro-F1':>9}{'tokens/s':>10}"]
    for name, r in rows.items():
        unk = f"{r['unknown_accuracy']:9.4f}" if unknown else f"{'':>9}"
        lines.append(f"{name:30}{r['token_accuracy']:10.4f}{unk}{r['sentence_accuracy']:9.4f}{r['macro_f1']:9.4f}"
                     f"{r['tokens_per_second']:10,.0f}")  # fmt: skip
    return "\n".join(lines)


def _public(rows: dict[str, dict]) -> dict[str, dict]:
    return {name: {k: v for k, v in r.items() if k != "predicted"} for name, r in rows.items()}


# ----- jobs ------------------------------------------------------------------------------------------------------
def train_run(data_options: dict, config: TaggerConfig, train_config: TrainConfig, *, run_dir: str | Path,
              resume: bool = False, log=print) -> tuple[Tagger, dict]:  # fmt: skip
    run_dir = Path(run_dir)
    train, validation, test, silver, tags = load_splits(data_options, log)
    started = time.perf_counter()
    tagger = Tagger(config, train_config)
    tagger.fit(train, validation, silver=silver, tags=tags, run_dir=run_dir, resume=resume, log=log)
    seconds = time.perf_counter() - started
    baselines = baselines_for(train)
    rows = compare(tagger, baselines, test, train)
    unknown = rows[next(iter(rows))].get("unknown_tokens")
    title = (f"{test.source}: {len(test):,} sequences, {test.tokens():,} steps"
             + (f" ({unknown:,} words unseen in the gold training data)" if unknown is not None else "")
             + f"; training {seconds / 60:.1f} min")  # fmt: skip
    log(format_rows(rows, title))
    network = rows[next(iter(rows))]
    if network["confusions"]:
        log("most confused (gold → predicted): "
            + ", ".join(f"{g} → {p} {n}" for g, p, n in network["confusions"]))  # fmt: skip
    summary = {"data": data_options, "rows": _public(rows), "training_seconds": seconds}
    atomic_write_text(run_dir / "evaluation.json", json.dumps(summary, indent=2) + "\n")
    _report(run_dir / "report.html", tagger, test, rows, title)
    log(f"run folder: {run_dir} (best.safetensors, metrics.jsonl, evaluation.json, report.html)")
    return tagger, summary


def evaluate_run(checkpoint: str | Path, *, data: str | None = None, column: int | None = None,
                 label: str | None = None, sequence_id: str | None = None, log=print) -> dict:  # fmt: skip
    """Tag a labelled file (or, by default, the run's own test part, beside the baselines) and score it."""
    folder = run_folder(checkpoint, "tag")
    tagger = Tagger.load(folder / "best.safetensors")
    if data is None:
        saved = json.loads((folder / "evaluation.json").read_text(encoding="utf-8"))
        train, _, test, _, _ = load_splits(saved["data"], log=lambda *_: None)
        rows = compare(tagger, baselines_for(train), test, train)
        log(format_rows(rows, f"{test.source}: the run's test part"))
        return _public(rows)
    if tagger.vocab.numeric:
        if not label:
            raise RnnlabError("name the label column with --label (and the sequence id with --id)")
        part = read_numeric_tagged(data, label=label, sequence_id=sequence_id, features=tagger.vocab.features)
    else:
        part = read_tagged(data, column=column)
    check_known_tags(part, tagger.vocab.tags)
    started = time.perf_counter()
    predicted = tagger.predict(part.steps)
    seconds = time.perf_counter() - started
    metrics = tagging_metrics(part.tags, predicted, unknown_mask(tagger, part))
    metrics["tokens_per_second"] = part.tokens() / max(seconds, 1e-9)
    log(format_rows({f"rnnlab ({tagger.config.cell}-{tagger.config.head})": metrics},
                    f"{part.source}: {len(part):,} sequences, {part.tokens():,} steps"))  # fmt: skip
    return metrics


def tokenize(line: str, pretokenized: bool) -> list[str]:
    """Words of a sentence: split at spaces, or with NLTK's Penn Treebank tokenizer (``don't`` → ``do n't``), as the
    WSJ sample is tokenized."""
    if pretokenized:
        return line.split()
    from nltk.tokenize import TreebankWordTokenizer

    return TreebankWordTokenizer().tokenize(line)


def predict_run(checkpoint: str | Path, *, text: str | None = None, input_file: str | None = None,
                output: str | None = None, output_format: str = "slash", pretokenized: bool = False,
                sequence_id: str | None = None, log=print) -> list[list[str]]:  # fmt: skip
    """Tag sentences (one per line, from ``text`` or ``input_file``) and print or write them as ``word/TAG`` lines or
    CoNLL; a numeric tagger reads a CSV (rows of its features, ``sequence_id`` grouping) and writes it back with a
    ``predicted`` column."""
    folder = run_folder(checkpoint, "tag")
    check_output(output, input_file, folder)
    tagger = Tagger.load(folder / "best.safetensors")
    if tagger.vocab.numeric:
        return _predict_numeric(tagger, input_file, output, sequence_id, log)
    if (text is None) == (input_file is None):
        raise RnnlabError("give the sentences with --text or --input FILE (one sentence per line)")
    if input_file is not None:
        try:
            text = Path(input_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RnnlabError(f"cannot read {input_file}: {getattr(exc, 'strerror', None) or exc}") from None
    sentences = [tokenize(line, pretokenized) for line in text.splitlines() if line.strip()]
    if not sentences:
        raise RnnlabError(f"{input_file or '--text'} holds no sentence to tag")
    started = time.perf_counter()
    tags = tagger.predict(sentences)
    seconds = time.perf_counter() - started
    if output_format == "conll":
        body = "\n\n".join("\n".join(f"{w}\t{t}" for w, t in zip(s, g)) for s, g in zip(sentences, tags)) + "\n"
    else:
        body = "\n".join(" ".join(f"{w}/{t}" for w, t in zip(s, g)) for s, g in zip(sentences, tags)) + "\n"
    if output:
        atomic_write_text(Path(output), body)
        tokens = sum(len(s) for s in sentences)
        log(f"tagged {len(sentences):,} sentences, {tokens:,} tokens ({tokens / max(seconds, 1e-9):,.0f} tokens/s); "
            f"wrote {output}")  # fmt: skip
    else:
        print(body, end="")
    return tags


def _predict_numeric(tagger: Tagger, input_file: str | None, output: str | None, sequence_id: str | None, log):
    import pandas as pd

    from rnnlab.data.series import read_table

    if input_file is None:
        raise RnnlabError(f"a numeric tagger reads a CSV with the columns {', '.join(tagger.vocab.features)}: --input")
    frame = read_table(input_file)
    missing = [c for c in [*tagger.vocab.features, sequence_id] if c and c not in frame.columns]
    if missing:
        raise RnnlabError(f"{input_file}: column {missing[0]!r} not found; the model reads "
                          f"{', '.join(tagger.vocab.features)}")  # fmt: skip
    values = frame[tagger.vocab.features].apply(pd.to_numeric, errors="coerce").to_numpy(np.float32)
    if not np.isfinite(values).all():
        row = int(np.nonzero(~np.isfinite(values).all(axis=1))[0][0])
        raise RnnlabError(f"{input_file}: a missing or non-numeric feature at line {row + 2}")
    groups = frame[sequence_id].astype(str).to_numpy() if sequence_id else np.zeros(len(frame), dtype=str)
    predicted = np.empty(len(frame), dtype=object)
    keys = list(dict.fromkeys(groups))
    rows_of = [np.nonzero(groups == key)[0] for key in keys]
    for rows, tags in zip(rows_of, tagger.predict([values[rows] for rows in rows_of])):
        predicted[rows] = tags
    frame["predicted"] = predicted
    body = frame.to_csv(index=False)
    if output:
        atomic_write_text(Path(output), body)
        log(f"tagged {len(keys):,} sequences, {len(frame):,} steps; wrote {output}")
    else:
        print(body, end="")
    return [list(predicted[rows]) for rows in rows_of]


# ----- report ----------------------------------------------------------------------------------------------------
def _report(path: Path, tagger: Tagger, test: Tagged, rows: dict, title: str) -> None:
    from rnnlab.inspection.plots import figure_png, training_curves
    from rnnlab.inspection.report import Report

    report = Report(f"tag: {test.source}, {tagger.config.cell}-{tagger.config.head}",
                    config={"tagger": tagger.config.__dict__, "tags": tagger.vocab.tags})  # fmt: skip
    header = ["", "token accuracy", "unknown words", "sentence accuracy", "macro-F1", "tokens/s"]
    body = [[name, r["token_accuracy"], r.get("unknown_accuracy"), r["sentence_accuracy"], r["macro_f1"],
             r["tokens_per_second"]] for name, r in rows.items()]  # fmt: skip
    report.table(title, header, body, {0})
    network = rows[next(iter(rows))]
    per_tag = sorted(network["per_tag"].items(), key=lambda kv: -kv[1]["support"])
    report.table("the network, per tag (test)", ["tag", "precision", "recall", "F1", "support"],
                 [[t, v["precision"], v["recall"], v["f1"], v["support"]] for t, v in per_tag])  # fmt: skip
    report.table("the most confused tags (gold → predicted)", ["gold", "predicted", "count"], network["confusions"])
    if tagger.result and tagger.result.history:
        report.figure("training: loss, and the validation accuracy by epoch",
                      figure_png(training_curves(tagger.result.history, title="training")))  # fmt: skip
    if test.numeric:
        report.figure("test sequences: inputs, the true labels (shaded) and the network's (marks)",
                      figure_png(_numeric_figure(test, network["predicted"])))  # fmt: skip
    else:
        report.markup("test sentences: wrong tags in red (the gold tag after the arrow)",
                      _marked_sentences(test, network["predicted"]))  # fmt: skip
    report.write(path)


def _marked_sentences(test: Tagged, predicted: list[list[str]], limit: int = 30) -> str:
    lines = []
    for words, gold, guess in list(zip(test.steps, test.tags, predicted))[:limit]:
        parts = []
        for w, g, p in zip(words, gold, guess):
            if g == p:
                parts.append(f"{html.escape(w)}<sub>{html.escape(p)}</sub>")
            else:
                parts.append(f'<span style="background:#fdd">{html.escape(w)}<sub>{html.escape(p)}&rarr;'
                             f"{html.escape(g)}</sub></span>")  # fmt: skip
        lines.append("<p>" + " ".join(parts) + "</p>")
    return "\n".join(lines)


def _numeric_figure(test: Tagged, predicted: list[list[str]], count: int = 4):
    import matplotlib.pyplot as plt

    tags = test.tag_set()
    interesting = [i for i, row in enumerate(test.tags) if len(set(row)) > 1][:count] or list(range(count))
    chosen = [i for i in interesting if i < len(test)]
    figure, axes = plt.subplots(len(chosen), 1, figsize=(10, 2.2 * len(chosen)), squeeze=False)
    for axis, i in zip(axes[:, 0], chosen):
        rows = np.asarray(test.steps[i])
        axis.plot(rows[:, 0], lw=0.8, color="#333")
        rare = min(tags, key=lambda t: sum(row.count(t) for row in test.tags))
        gold = np.array([t == rare for t in test.tags[i]])
        guess = np.array([t == rare for t in predicted[i]])
        axis.fill_between(np.arange(len(gold)), rows[:, 0].min(), rows[:, 0].max(), where=gold, color="#f4a6a6",
                          alpha=0.5, label=f"true {rare}")  # fmt: skip
        marks = np.nonzero(guess)[0]
        axis.plot(marks, rows[marks, 0], "v", color="#c00", ms=4, label=f"predicted {rare}")
        axis.set_ylabel(test.features[0] if test.features else "")
        axis.legend(loc="upper right", fontsize=7)
    figure.tight_layout()
    return figure
