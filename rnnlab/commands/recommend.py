"""``rnnlab recommend train | evaluate | predict``: arguments in, a call to :mod:`rnnlab.tasks.recommend`."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from rnnlab.commands.common import FINITE, POSITIVE, PROBABILITY, RATE, add_run_options, add_training_options
from rnnlab.models.recommender import LOSSES
from rnnlab.nn import LAYERS


def _ids(text: str) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"expected comma-separated item ids, got {text!r}")
    return items


def register(commands) -> None:
    recommend = commands.add_parser("recommend", help="next-item recommendation from users' histories (GRU4Rec)")
    sub = recommend.add_subparsers(dest="recommend_command", required=True, metavar="ACTION")

    train = sub.add_parser("train", help="train on interactions, rank all items for every test user")
    train.add_argument("--data", default="ml-100k", help="a CSV/TSV/Parquet of interactions, or ml-100k (default)")
    train.add_argument("--user", default=None, help="user or session id column (default: found by name)")
    train.add_argument("--item", default=None, help="item id column (default: found by name)")
    train.add_argument("--time", default=None, help="timestamp column: numbers or dates (default: found by name)")
    train.add_argument("--rating", default=None, help="rating column, for --min-rating")
    train.add_argument("--min-rating", type=FINITE, default=None, help="keep interactions rated at least this")
    train.add_argument("--min-user-events", type=POSITIVE, default=3, help="drop users with fewer events (default 3)")
    train.add_argument("--min-item-events", type=POSITIVE, default=1, help="drop items with fewer events")
    train.add_argument("--encoding", default="utf-8")
    train.add_argument("--split", choices=("leave-one-out", "time"), default="leave-one-out",
                       help="last item test, one before validation (default); or one time cut-off for all")  # fmt: skip
    train.add_argument("--cell", choices=tuple(LAYERS), default="gru")
    train.add_argument("--embedding-dim", type=POSITIVE, default=64)
    train.add_argument("--hidden-size", type=POSITIVE, default=128)
    train.add_argument("--layers", type=POSITIVE, default=1)
    train.add_argument("--dropout", type=PROBABILITY, default=0.3, help="on the item embeddings")
    train.add_argument("--max-history", type=POSITIVE, default=50, help="the last items read (default 50)")
    train.add_argument("--tie-weights", action="store_true", help="score items with their input embeddings")
    train.add_argument("--loss", choices=LOSSES, default="softmax",
                       help="full softmax over all items (default) or sampled softmax (large catalogues)")  # fmt: skip
    train.add_argument("--negatives", type=POSITIVE, default=512, help="with --loss sampled")
    train.add_argument("--batch-size", type=POSITIVE, default=64)
    train.add_argument("--epochs", type=POSITIVE, default=40)
    train.add_argument("--lr", type=RATE, default=3e-3)
    train.add_argument("--patience", type=POSITIVE, default=5)
    add_run_options(train, "recommend")
    add_training_options(train)
    train.set_defaults(func=_train)

    evaluate = sub.add_parser("evaluate", help="rank the test users again, beside the baselines")
    evaluate.add_argument("--checkpoint", required=True, help="a run folder or its best.safetensors")
    evaluate.set_defaults(func=_evaluate)

    predict = sub.add_parser("predict", help="the top items after a user's history or a list of items")
    predict.add_argument("--checkpoint", required=True, help="a run folder or its best.safetensors")
    predict.add_argument("--user", default=None, help="a user of the training data")
    predict.add_argument("--items", type=_ids, default=None, help="item ids, oldest first: 50,172,181")
    predict.add_argument("--k", type=POSITIVE, default=10)
    predict.set_defaults(func=_predict)


def _train(args: argparse.Namespace) -> None:
    from rnnlab.models.recommender import RecommenderConfig
    from rnnlab.tasks.recommend import train_run
    from rnnlab.train import TrainConfig

    data_options = {"data": args.data, "user": args.user, "item": args.item, "time": args.time, "rating": args.rating,
                    "min_rating": args.min_rating, "min_user_events": args.min_user_events,
                    "min_item_events": args.min_item_events, "encoding": args.encoding}  # fmt: skip
    config = RecommenderConfig(cell=args.cell, embedding_dim=args.embedding_dim, hidden_size=args.hidden_size,
                               num_layers=args.layers, dropout=args.dropout, max_history=args.max_history,
                               tie_weights=args.tie_weights, loss=args.loss, negatives=args.negatives,
                               batch_size=args.batch_size)  # fmt: skip
    train_config = TrainConfig(epochs=args.epochs, lr=args.lr, patience=args.patience, seed=args.seed, lr_patience=3,
                               progress=not args.no_progress, max_seconds=(args.minutes or 0) * 60)  # fmt: skip
    name = args.data if args.data == "ml-100k" else Path(args.data).stem
    run_dir = args.run_dir or f"runs/recommend-{name}-{datetime.now():%Y%m%d-%H%M%S}"
    train_run(data_options, config, train_config, split_kind=args.split, run_dir=run_dir, resume=args.resume)


def _evaluate(args: argparse.Namespace) -> None:
    from rnnlab.tasks.recommend import evaluate_run

    evaluate_run(args.checkpoint)


def _predict(args: argparse.Namespace) -> None:
    from rnnlab.tasks.recommend import predict_run

    predict_run(args.checkpoint, user=args.user, items=args.items, k=args.k)
