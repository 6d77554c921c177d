"""``rnnlab tag train | evaluate | predict``: arguments in, a call to :mod:`rnnlab.tasks.tag`."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from rnnlab.commands.common import COUNT, POSITIVE, PROBABILITY, RATE, add_run_options, add_training_options
from rnnlab.models.tagger import HEADS
from rnnlab.nn import LAYERS


def _columns(text: str) -> list[str]:
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated column names, got {text!r}")
    return names


def register(commands) -> None:
    tag = commands.add_parser("tag", help="a label for every step: part-of-speech tagging, per-step labels of numbers")
    sub = tag.add_subparsers(dest="tag_command", required=True, metavar="ACTION")

    train = sub.add_parser("train", help="train a BiLSTM-CRF tagger; test it beside the baselines")
    train.add_argument("--data", default="wsj",
                       help="wsj (default: the gold WSJ sample, split 800/100/101), a CoNLL or word/TAG file, "
                            "'anomalies' or a CSV/Parquet of numeric rows with --label")  # fmt: skip
    train.add_argument("--silver", default=None, help="extra machine-tagged training data: oanc, or a file")
    train.add_argument("--validation", default=None, help="a tagged file for validation (default: 10%% of --data)")
    train.add_argument("--test", default=None, help="a tagged file for the test (default: the last 10%% of --data)")
    train.add_argument("--column", type=COUNT, default=None, help="CoNLL: the tag column (0: the token; default last)")
    train.add_argument("--label", default=None, help="numeric rows: the label column")
    train.add_argument("--id", default=None, help="numeric rows: the sequence id column")
    train.add_argument("--features", type=_columns, default=None, help="numeric rows: input columns (default: all)")
    train.add_argument("--encoding", default="utf-8")
    train.add_argument("--cell", choices=tuple(LAYERS), default="lstm")
    train.add_argument("--head", choices=HEADS, default="crf", help="crf (Viterbi, default) or softmax per step")
    train.add_argument("--word-dim", type=POSITIVE, default=100)
    train.add_argument("--char-filters", type=COUNT, default=50, help="character CNN filters (0: no characters)")
    train.add_argument("--hidden-size", type=POSITIVE, default=128, help="per direction")
    train.add_argument("--layers", type=POSITIVE, default=1)
    train.add_argument("--dropout", type=PROBABILITY, default=0.5)
    train.add_argument("--batch-size", type=POSITIVE, default=16)
    train.add_argument("--epochs", type=POSITIVE, default=30)
    train.add_argument("--lr", type=RATE, default=2e-3)
    train.add_argument("--patience", type=POSITIVE, default=5)
    add_run_options(train, "tag")
    add_training_options(train)
    train.set_defaults(func=_train)

    evaluate = sub.add_parser("evaluate", help="score a tagged file (default: the run's test part, with baselines)")
    evaluate.add_argument("--checkpoint", required=True, help="a run folder or its best.safetensors")
    evaluate.add_argument("--data", default=None, help="a CoNLL or word/TAG file, or a CSV of numeric rows")
    evaluate.add_argument("--column", type=COUNT, default=None)
    evaluate.add_argument("--label", default=None)
    evaluate.add_argument("--id", default=None)
    evaluate.set_defaults(func=_evaluate)

    predict = sub.add_parser("predict", help="tag sentences (one per line) or numeric rows")
    predict.add_argument("--checkpoint", required=True, help="a run folder or its best.safetensors")
    predict.add_argument("--text", default=None, help="sentences to tag, one per line")
    predict.add_argument("--input", default=None, help="a file of sentences, one per line (or a CSV of numeric rows)")
    predict.add_argument("--output", default=None, help="write here (default: print)")
    predict.add_argument("--format", choices=("slash", "conll"), default="slash", help="word/TAG lines or CoNLL")
    predict.add_argument("--pretokenized", action="store_true",
                         help="words are separated by spaces (default: NLTK's Penn Treebank tokenizer)")  # fmt: skip
    predict.add_argument("--id", default=None, help="numeric rows: the sequence id column")
    predict.set_defaults(func=_predict)


def _train(args: argparse.Namespace) -> None:
    from rnnlab.models.tagger import TaggerConfig
    from rnnlab.tasks.tag import train_run
    from rnnlab.train import TrainConfig

    data_options = {"data": args.data, "silver": args.silver, "validation": args.validation, "test": args.test,
                    "column": args.column, "label": args.label, "id": args.id, "features": args.features,
                    "encoding": args.encoding}  # fmt: skip
    config = TaggerConfig(cell=args.cell, head=args.head, word_dim=args.word_dim, char_filters=args.char_filters,
                          hidden_size=args.hidden_size, num_layers=args.layers, dropout=args.dropout,
                          batch_size=args.batch_size)  # fmt: skip
    train_config = TrainConfig(epochs=args.epochs, lr=args.lr, patience=args.patience, seed=args.seed, lr_patience=2,
                               progress=not args.no_progress, max_seconds=(args.minutes or 0) * 60)  # fmt: skip
    name = args.data if not Path(args.data).exists() else Path(args.data).stem
    run_dir = args.run_dir or f"runs/tag-{name}-{datetime.now():%Y%m%d-%H%M%S}"
    train_run(data_options, config, train_config, run_dir=run_dir, resume=args.resume)


def _evaluate(args: argparse.Namespace) -> None:
    from rnnlab.tasks.tag import evaluate_run

    evaluate_run(args.checkpoint, data=args.data, column=args.column, label=args.label, sequence_id=args.id)


def _predict(args: argparse.Namespace) -> None:
    from rnnlab.tasks.tag import predict_run

    predict_run(args.checkpoint, text=args.text, input_file=args.input, output=args.output, output_format=args.format,
                pretokenized=args.pretokenized, sequence_id=args.id)  # fmt: skip
