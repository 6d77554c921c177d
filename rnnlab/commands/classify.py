"""``rnnlab classify train | predict``: arguments in, a call to :mod:`rnnlab.tasks.classify`."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from rnnlab.checkpoint import check_output
from rnnlab.commands.common import COUNT, FRACTION, POSITIVE, PROBABILITY, RATE, add_training_options
from rnnlab.nn import LAYERS


def _class_files(text: str) -> dict[str, str]:
    pairs = [p.split("=", 1) for p in text.split(",") if p.strip()]
    if not all(len(p) == 2 and p[0].strip() and p[1].strip() for p in pairs):
        raise argparse.ArgumentTypeError(f"expected LABEL=FILE,LABEL=FILE, got {text!r}")
    labels = [label.strip() for label, _ in pairs]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise argparse.ArgumentTypeError(f"the class {repeated[0]!r} is given twice; give each class once")
    files = [str(Path(path.strip()).resolve()) for _, path in pairs]
    shared = sorted({f for f in files if files.count(f) > 1})
    if shared:
        raise argparse.ArgumentTypeError(f"{shared[0]} is given for two classes; each class needs its own file")
    return {label.strip(): path.strip() for label, path in pairs}


def register(commands) -> None:
    classify = commands.add_parser("classify", help="sequence classification of texts")
    sub = classify.add_subparsers(dest="classify_command", required=True, metavar="ACTION")

    train = sub.add_parser("train", help="train a text classifier, evaluate it beside TF-IDF + logistic regression")
    train.add_argument("--data", default=None, help="a CSV/TSV/Parquet table with a text and a label column")
    train.add_argument("--text-column", default="text")
    train.add_argument("--label-column", default="label")
    train.add_argument("--class-files", type=_class_files, default=None,
                       help="one file per class, one text a line: pos=rt-polarity.pos,neg=rt-polarity.neg")  # fmt: skip
    train.add_argument("--encoding", default="utf-8", help="of --class-files (e.g. latin-1)")
    train.add_argument("--builtin", default=None,
                       help="a UCR/UEA sequence set shipped by sktime, on its standard split: japanese-vowels, "
                            "basic-motions, gunpoint, italy-power-demand, arrowhead")  # fmt: skip
    train.add_argument("--sequences", default=None,
                       help="numeric sequences, long format: a row per (sequence, step); see --id-column")  # fmt: skip
    train.add_argument("--id-column", default="id", help="with --sequences: the sequence id column")
    train.add_argument("--time-column", default=None, help="with --sequences: the step order column")
    train.add_argument("--class-weights", choices=("none", "balanced"), default="none",
                       help="weigh the loss by inverse class frequency (for imbalanced labels)")  # fmt: skip
    train.add_argument("--cell", choices=tuple(LAYERS), default="lstm")
    train.add_argument("--hidden-size", type=POSITIVE, default=64, help="per direction (default 64)")
    train.add_argument("--layers", type=POSITIVE, default=1)
    train.add_argument("--unidirectional", action="store_true", help="read left to right only")
    train.add_argument("--pooling", choices=("last", "mean", "max", "meanmax"), default="meanmax")
    train.add_argument("--embedding-dim", type=POSITIVE, default=128)
    train.add_argument("--dropout", type=PROBABILITY, default=None, help="default 0.4 for texts, 0.2 for --builtin")
    train.add_argument("--epochs", type=POSITIVE, default=None, help="at most (default 12 for texts, 60 for --builtin)")
    train.add_argument("--lr", type=RATE, default=3e-3)
    train.add_argument("--patience", type=POSITIVE, default=None,
                       help="epochs without a better validation accuracy (4 for texts, 15 for --builtin)")  # fmt: skip
    train.add_argument("--seed", type=COUNT, default=0)
    train.add_argument("--ensemble", type=POSITIVE, default=1,
                       help="train this many members from consecutive seeds and average them (texts)")  # fmt: skip
    train.add_argument("--test-fraction", type=FRACTION, default=0.1)
    train.add_argument("--val-fraction", type=FRACTION, default=None,
                       help="share of the training part for early stopping (texts 0.1, --builtin 0.2)")  # fmt: skip
    train.add_argument("--max-length", type=POSITIVE, default=200, help="words per text at most (default 200)")
    train.add_argument("--truncate", choices=("head", "tail", "both"), default="head",
                       help="the words kept of a longer text: first, last or half of each (default head)")  # fmt: skip
    train.add_argument("--pretrain", choices=("auto", "on", "off"), default="auto",
                       help="pretrain the encoder as a language model (auto: when --unlabeled is given)")  # fmt: skip
    train.add_argument("--unlabeled", default=None,
                       help="a file, or a folder of .txt files, of unlabelled texts to pretrain on")  # fmt: skip
    train.add_argument("--no-ngrams", action="store_true",
                       help="the network alone (by default a TF-IDF n-gram model is blended in, weighted on "
                            "validation)")  # fmt: skip
    train.add_argument("--run-dir", default=None, help="default runs/classify-<time>")
    train.add_argument("--no-progress", action="store_true")
    add_training_options(train)
    train.set_defaults(func=_train)

    evaluate = sub.add_parser("evaluate", help="accuracy, macro-F1 and confusion matrix on a labelled file")
    evaluate.add_argument("--checkpoint", required=True, help="best.safetensors of a classify run, or its folder")
    evaluate.add_argument("--data", default=None, help="a table with a text and a label column")
    evaluate.add_argument("--text-column", default=None, help="default: the training's")
    evaluate.add_argument("--label-column", default=None, help="default: the training's")
    evaluate.add_argument("--class-files", type=_class_files, default=None, help="or one file per class")
    evaluate.add_argument("--encoding", default="utf-8")
    evaluate.set_defaults(func=_evaluate)

    predict = sub.add_parser("predict", help="labels and probabilities for texts")
    predict.add_argument("--checkpoint", required=True, help="best.safetensors of a classify run, or its folder")
    predict.add_argument("texts", nargs="*", help="texts to classify")
    predict.add_argument("--input", default=None, help="a file of texts, one a line")
    predict.add_argument("--model", choices=("best", "network", "n-grams"), default="best",
                         help="the blend chosen on validation (default), the network or the n-gram model")  # fmt: skip
    predict.add_argument("--encoding", default="utf-8")
    predict.add_argument("--output", default=None, help="CSV to write (default: print)")
    predict.set_defaults(func=_predict)


def _train(args: argparse.Namespace) -> None:
    from rnnlab.models.classifier import ClassifierConfig
    from rnnlab.tasks.classify import load_labelled, train_run
    from rnnlab.train import TrainConfig

    if args.ensemble < 1 or (args.ensemble > 1 and (args.builtin or args.sequences)):
        raise ValueError(f"--ensemble must be at least 1 (and is for texts only), got {args.ensemble}")
    text = not (args.builtin or args.sequences)  # texts and numeric sequences have different sensible defaults
    dropout = args.dropout if args.dropout is not None else (0.4 if text else 0.2)
    epochs = args.epochs if args.epochs is not None else (12 if text else 60)
    patience = args.patience if args.patience is not None else (4 if text else 15)
    val_fraction = args.val_fraction if args.val_fraction is not None else (0.1 if text else 0.2)
    monitor = "val_error" if text else "val_loss"  # a few dozen validation sequences: their error saturates at 0
    config = ClassifierConfig(cell=args.cell, hidden_size=args.hidden_size, num_layers=args.layers,
                              bidirectional=not args.unidirectional, pooling=args.pooling,
                              embedding_dim=args.embedding_dim, dropout=dropout,
                              class_weights=args.class_weights)  # fmt: skip
    train_config = TrainConfig(epochs=epochs, lr=args.lr, patience=patience, seed=args.seed, monitor=monitor,
                               progress=not args.no_progress, max_seconds=(args.minutes or 0) * 60)  # fmt: skip
    run_dir = args.run_dir or f"runs/classify-{datetime.now():%Y%m%d-%H%M%S}"
    if args.builtin or args.sequences:
        from rnnlab.tasks.classify import sequence_run

        table = None
        if args.sequences:
            table = {"path": args.sequences, "id": args.id_column, "label": args.label_column, "time": args.time_column}
        sequence_run(args.builtin or args.sequences, config, train_config, run_dir=run_dir, val_fraction=val_fraction,
                     test_fraction=args.test_fraction, table=table)  # fmt: skip
        return
    examples = load_labelled(args.data, args.class_files, text=args.text_column, label=args.label_column,
                             encoding=args.encoding)  # fmt: skip
    columns = None if args.class_files else {"text": args.text_column, "label": args.label_column}
    unlabeled = []
    if args.unlabeled:  # the same checks as `text train`: empty, binary, another encoding
        from rnnlab.data.text import read_text_files

        unlabeled = [line for line in read_text_files(args.unlabeled, encoding=args.encoding).splitlines()
                     if line.strip()]  # fmt: skip
    train_run(examples, config, train_config, run_dir=run_dir, test_fraction=args.test_fraction,
              val_fraction=val_fraction, ensemble=args.ensemble, wide=not args.no_ngrams, max_length=args.max_length,
              truncate=args.truncate, columns=columns, pretrain=args.pretrain, unlabeled=unlabeled)  # fmt: skip


def _evaluate(args: argparse.Namespace) -> None:
    from rnnlab.models.classifier import TextEnsemble
    from rnnlab.tasks.classify import evaluate_run, load_labelled

    classifier = TextEnsemble.load(args.checkpoint)
    first = classifier.members[0] if isinstance(classifier, TextEnsemble) else classifier
    columns = first.columns or {}  # the checkpoint remembers the training table's columns
    examples = load_labelled(args.data, args.class_files, text=args.text_column or columns.get("text", "text"),
                             label=args.label_column or columns.get("label", "label"),
                             encoding=args.encoding)  # fmt: skip
    evaluate_run(args.checkpoint, examples)


def _predict(args: argparse.Namespace) -> None:
    from rnnlab.data.text import read_text
    from rnnlab.tasks.classify import predict_run

    texts = list(args.texts)
    check_output(args.output, args.input, args.checkpoint)
    if args.input:
        texts += [line for line in read_text(args.input, encoding=args.encoding).splitlines() if line.strip()]
    predict_run(args.checkpoint, texts, args.output, model=args.model)
