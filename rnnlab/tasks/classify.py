"""The text-classification jobs behind ``rnnlab classify train | predict``.

``train``: a stratified split (``--test-fraction`` held out, then ``--val-fraction`` of the rest for early stopping),
the recurrent classifier, and beside it a TF-IDF (1–2-grams) + logistic-regression baseline on the same split; the
metrics (accuracy, macro-F1, per-class precision/recall, confusion matrix) come from scikit-learn. The run folder gets
``best.safetensors``, ``metrics.jsonl``, ``evaluation.json`` and ``report.html`` (confusion matrix, training curves,
and how the prediction evolves word by word on a few test sentences).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from rnnlab.checkpoint import atomic_write_text, write_table
from rnnlab.data.labelled import LabelledTexts, read_class_files, read_labelled_table
from rnnlab.errors import RnnlabError
from rnnlab.models.classifier import ClassifierConfig, TextClassifier, TextEnsemble
from rnnlab.train import TrainConfig


def load_labelled(data: str | None, class_files: dict[str, str] | None, *, text: str, label: str, encoding: str):
    if class_files:
        return read_class_files(class_files, encoding=encoding)
    if not data:
        raise RnnlabError("give --data FILE (with --text-column and --label-column) or --class-files LABEL=FILE,...")
    return read_labelled_table(data, text=text, label=label)


def split(examples: LabelledTexts, *, test_fraction: float, val_fraction: float, seed: int):
    """Stratified train / validation / test parts of the examples."""
    from sklearn.model_selection import train_test_split

    counts = {c: examples.labels.count(c) for c in examples.classes}
    rare = [c for c, n in counts.items() if n < 3]
    if rare:
        raise RnnlabError(f"classes {rare} have fewer than 3 examples in {examples.source}: too few to split")
    texts, test_texts, labels, test_labels = train_test_split(
        examples.texts, examples.labels, test_size=test_fraction, stratify=examples.labels, random_state=seed
    )
    fit_texts, val_texts, fit_labels, val_labels = train_test_split(
        texts, labels, test_size=val_fraction, stratify=labels, random_state=seed
    )
    return (fit_texts, fit_labels), (val_texts, val_labels), (test_texts, test_labels), (texts, labels)


def metrics(truth: list[str], predicted: list[str], classes: list[str]) -> dict:
    from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score

    return {
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": float(f1_score(truth, predicted, average="macro")),
        "confusion": confusion_matrix(truth, predicted, labels=classes).tolist(),
        "per_class": classification_report(truth, predicted, labels=classes, output_dict=True, zero_division=0),
    }


def tfidf_baseline(texts: list[str], labels: list[str], test_texts: list[str]) -> list[str]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    model = LogisticRegression(C=10, max_iter=2000)
    model.fit(vectorizer.fit_transform(texts), labels)
    return list(model.predict(vectorizer.transform(test_texts)))


def nearest_neighbour_baseline(train, test) -> list[str]:
    """1-NN (Euclidean) on sequences resampled to a common length and standardised per feature."""
    from sklearn.neighbors import KNeighborsClassifier

    from rnnlab.models.classifier import feature_scaling

    length = max(len(s) for s in train.sequences + test.sequences)
    mean, scale = feature_scaling(train.sequences)

    def flat(sequences):
        grid = np.linspace(0, 1, length)
        out = []
        for s in sequences:
            s = (s - mean) / scale
            source = np.linspace(0, 1, len(s))
            out.append(np.stack([np.interp(grid, source, s[:, f]) for f in range(s.shape[1])], axis=1).ravel())
        return np.array(out)

    return list(
        KNeighborsClassifier(n_neighbors=1).fit(flat(train.sequences), train.labels).predict(flat(test.sequences))
    )


def sequence_run(name: str, config: ClassifierConfig, train_config: TrainConfig, *, run_dir, val_fraction=0.15,
                 test_fraction: float = 0.2, table: dict | None = None, log=print) -> dict[str, dict]:  # fmt: skip
    """Numeric sequences beside 1-NN: a built-in UCR/UEA set on its standard split, or a long-format table (``table``:
    path, id, label, time) split stratified with ``test_fraction`` held out."""
    from sklearn.model_selection import train_test_split

    from rnnlab.data.labelled import LabelledSequences, load_ucr, read_sequence_table
    from rnnlab.models.classifier import NumericClassifier

    if table is None:
        train, test = load_ucr(name, "train"), load_ucr(name, "test")
    else:
        data = read_sequence_table(table["path"], id=table["id"], label=table["label"], time=table.get("time"))
        x, test_x, y, test_y = train_test_split(data.sequences, data.labels, test_size=test_fraction,
                                                stratify=data.labels, random_state=train_config.seed)  # fmt: skip
        train, test = LabelledSequences(x, y, data.source), LabelledSequences(test_x, test_y, data.source)
    fit_x, val_x, fit_y, val_y = train_test_split(train.sequences, train.labels, test_size=val_fraction,
                                                  stratify=train.labels, random_state=train_config.seed)  # fmt: skip
    log(f"{name}: {len(fit_x)} training, {len(val_x)} validation (from the train split), {len(test)} test sequences; "
        f"{train.sequences[0].shape[1]} features, lengths {min(map(len, train.sequences))}–"
        f"{max(map(len, train.sequences))}, {len(train.classes)} classes")  # fmt: skip
    start = time.perf_counter()
    classifier = NumericClassifier(config).fit(fit_x, fit_y, val_sequences=val_x, val_labels=val_y, run_dir=run_dir,
                                               train_config=train_config, log=log)  # fmt: skip
    seconds = time.perf_counter() - start
    start_baseline = time.perf_counter()
    baseline = nearest_neighbour_baseline(train, test)
    rows = {
        f"{config.cell} (rnnlab)": {**metrics(test.labels, classifier.predict(test.sequences), classifier.classes),
                                    "seconds": seconds},
        "1-NN (Euclidean)": {**metrics(test.labels, baseline, classifier.classes),
                             "seconds": time.perf_counter() - start_baseline},
    }  # fmt: skip
    log(format_results(rows, classifier.classes))
    atomic_write_text(Path(run_dir) / "evaluation.json", json.dumps(rows, indent=2))
    write_report(classifier, rows, [], Path(run_dir), title=f"classify: {name}")
    log(f"run folder: {run_dir} (report.html, best.safetensors, metrics.jsonl, evaluation.json)")
    return rows


def format_results(rows: dict[str, dict], classes: list[str]) -> str:
    lines = [f"{'model':<30}{'accuracy':>10}{'macro-F1':>10}{'time s':>9}", "-" * 59]
    for name, row in rows.items():
        lines.append(f"{name:<30}{row['accuracy']:>10.4f}{row['macro_f1']:>10.4f}{row['seconds']:>9.1f}")
    first = next(iter(rows.values()))
    lines.append("\nconfusion matrix of " + next(iter(rows)) + " (rows: truth, columns: predicted)")
    width = max(8, *(len(c) + 2 for c in classes))
    lines.append(" " * width + "".join(f"{c:>{width}}" for c in classes))
    for c, row in zip(classes, first["confusion"]):
        lines.append(f"{c:>{width}}" + "".join(f"{n:>{width}}" for n in row))
    lines.append(f"\n{'class':>{width}}{'precision':>11}{'recall':>8}{'support':>9}")
    for c in classes:
        stats = first["per_class"][c]
        lines.append(f"{c:>{width}}{stats['precision']:>11.3f}{stats['recall']:>8.3f}{int(stats['support']):>9}")
    return "\n".join(lines)


def train_run(
    examples: LabelledTexts,
    config: ClassifierConfig,
    train_config: TrainConfig,
    *,
    run_dir: str | Path,
    test_fraction: float = 0.1,
    val_fraction: float = 0.1,
    ensemble: int = 1,
    wide: bool = True,
    max_length: int = 200,
    truncate: str = "head",
    columns: dict | None = None,
    pretrain: str = "auto",
    unlabeled: list[str] = (),
    log=print,
) -> dict[str, dict]:
    run_dir = Path(run_dir)
    if ensemble < 1:
        raise RnnlabError(f"--ensemble must be at least 1, got {ensemble}")
    (fit_texts, fit_labels), (val_texts, val_labels), (test_texts, test_labels), (texts, labels) = split(
        examples, test_fraction=test_fraction, val_fraction=val_fraction, seed=train_config.seed
    )
    log(f"{examples.source}: {len(fit_texts)} training, {len(val_texts)} validation, {len(test_texts)} test texts; "
        f"classes {', '.join(examples.classes)}")  # fmt: skip
    start = time.perf_counter()
    members = []
    for k in range(ensemble):  # each member: its own seed and run folder; one member trains in run_dir itself
        member_config = dataclasses.replace(train_config, seed=train_config.seed + k)
        member_dir = run_dir / f"member-{k + 1}" if ensemble > 1 else run_dir
        if ensemble > 1:
            log(f"--- member {k + 1} of {ensemble} (seed {member_config.seed}) ---")
        member = TextClassifier(config, max_length=max_length, truncate=truncate, wide=False, columns=columns,
                                pretrain=pretrain)  # fmt: skip
        members.append(member.fit(fit_texts, fit_labels, val_texts=val_texts, val_labels=val_labels, log=log,
                                  run_dir=member_dir, train_config=member_config, unlabeled=unlabeled))  # fmt: skip
    classifier = members[0] if ensemble == 1 else TextEnsemble(members)
    network_name = f"{classifier.description} (rnnlab, network alone)"
    network_test = classifier.predict(test_texts)  # before the n-gram model joins
    if wide:  # the n-gram model beside the network(s), blended with the weight that does best on validation
        members[0].fit_wide(fit_texts, fit_labels, val_texts, val_labels, log,
                            network=classifier.network_proba(val_texts))  # fmt: skip
        members[0].save((run_dir / "member-1" if ensemble > 1 else run_dir) / "best.safetensors")
    seconds = time.perf_counter() - start
    start_baseline = time.perf_counter()
    baseline = tfidf_baseline(texts, labels, test_texts)  # fitted on training + validation, as the network saw both
    rows = {f"{classifier.description} (rnnlab)": {**metrics(test_labels, classifier.predict(test_texts),
                                                             classifier.classes), "seconds": seconds}}  # fmt: skip
    if wide and members[0].blend < 1:
        rows[network_name] = {**metrics(test_labels, network_test, classifier.classes), "seconds": seconds}
    rows["tf-idf + logistic regression"] = {**metrics(test_labels, baseline, classifier.classes),
                                            "seconds": time.perf_counter() - start_baseline}  # fmt: skip
    log(format_results(rows, classifier.classes))
    atomic_write_text(run_dir / "evaluation.json", json.dumps(rows, indent=2))
    write_report(classifier, rows, test_texts, run_dir, title=f"classify: {examples.source}")
    models = "member-*/best.safetensors" if ensemble > 1 else "best.safetensors"
    log(f"run folder: {run_dir} (report.html, {models}, evaluation.json); predict with --checkpoint {run_dir}")
    return rows


LONG_TEXT = 40  # words: past this, the word-by-word view is coloured text instead of a plot
PALETTE = ("#d73027", "#4575b4", "#1a9850", "#984ea3", "#ff7f00", "#a65628")  # one colour per class, by index


def coloured_text(words: list[str], probabilities: np.ndarray, classes: list[str]) -> str:
    """HTML of ``words``, each on a background in the colour of the class leading after it, as strong as that
    class's probability (text-attribution style), with the probabilities in the word's tooltip; a legend first."""
    import html

    legend = " ".join(f'<span style="background:{PALETTE[k % len(PALETTE)]}33;padding:0 .3em">{html.escape(c)}</span>'
                      for k, c in enumerate(classes))  # fmt: skip
    spans = []
    for word, row in zip(words, probabilities):
        k = int(np.argmax(row))
        alpha = round(255 * (row[k] - 1 / len(classes)) / (1 - 1 / len(classes))) if len(classes) > 1 else 0
        tip = ", ".join(f"{c} {p:.2f}" for c, p in zip(classes, row))
        spans.append(f'<span title="{html.escape(tip)}" style="background:{PALETTE[k % len(PALETTE)]}'
                     f'{max(0, min(255, alpha)):02x}">{html.escape(word)}</span>')  # fmt: skip
    return f"<p>{legend}</p><p style='line-height:1.9'>{' '.join(spans)}</p>"


def write_report(classifier: TextClassifier, rows: dict, test_texts: list[str], run_dir: Path, title: str) -> None:
    from rnnlab.inspection.plots import confusion_plot, figure_png, prefix_plot, training_curves
    from rnnlab.inspection.report import Report

    report = Report(title)
    report.table("test results beside the baseline", ["model", "accuracy", "macro-F1", "time s"],
                 [[n, r["accuracy"], r["macro_f1"], f"{r['seconds']:.1f}"] for n, r in rows.items()], {0})  # fmt: skip
    first = next(iter(rows.values()))
    report.figure(
        "confusion matrix (test)", figure_png(confusion_plot(np.array(first["confusion"]), classifier.classes))
    )
    result = classifier.members[0].result if isinstance(classifier, TextEnsemble) else classifier.result
    if result is not None and result.history:
        report.figure("training curves", figure_png(training_curves(result.history)))
    for text in sorted(test_texts, key=len)[len(test_texts) // 2 : len(test_texts) // 2 + 3]:  # mid-length texts
        words, probabilities = classifier.prefix_probabilities(text)
        caption = f"the prediction word by word: “{text[:80]}”"
        if len(words) <= LONG_TEXT:
            report.figure(caption, figure_png(prefix_plot(words, probabilities, classifier.classes)))
        else:  # a plot's labels would overlap: the text itself, each word coloured by the running prediction
            report.markup(caption, coloured_text(words, probabilities, classifier.classes))
    config = classifier.members[0].config if isinstance(classifier, TextEnsemble) else classifier.config
    report.config = {"classifier": config.__dict__}
    report.write(run_dir / "report.html")


def predict_run(checkpoint: str, texts: list[str], output: str | None, log=print, model: str = "best"):
    import pandas as pd

    classifier = TextEnsemble.load(checkpoint)
    if not texts or not any(t.strip() for t in texts):
        raise RnnlabError("no text to classify: give texts as arguments or --input FILE (one per line)")
    first = classifier.members[0] if isinstance(classifier, TextEnsemble) else classifier
    if model == "n-grams" and first.linear is None:
        raise RnnlabError(f"{checkpoint} has no n-gram model (it was trained without one); use --model network")
    probabilities = classifier.predict_proba(texts, model)
    frame = pd.DataFrame({"text": texts, "label": [classifier.classes[i] for i in probabilities.argmax(axis=1)]})
    for k, name in enumerate(classifier.classes):
        frame[f"p_{name}"] = probabilities[:, k].round(4)
    write_table(frame, output, "predictions", log)
    return frame


def evaluate_run(checkpoint: str, examples: LabelledTexts, log=print) -> dict:
    """Metrics of a trained classifier (or ensemble) on labelled texts it has not been trained on."""
    classifier = TextEnsemble.load(checkpoint)
    unseen = sorted(set(examples.labels) - set(classifier.classes))
    if unseen:
        raise RnnlabError(
            f"labels {unseen} in {examples.source} were never seen in training; the model knows "
            f"{', '.join(classifier.classes)}"
        )
    start = time.perf_counter()
    row = {**metrics(examples.labels, classifier.predict(examples.texts), classifier.classes),
           "seconds": time.perf_counter() - start}  # fmt: skip
    log(format_results({f"{Path(checkpoint).name} on {examples.source}": row}, classifier.classes))
    return row
