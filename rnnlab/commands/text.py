"""``rnnlab text train | generate``: arguments in, a call to :mod:`rnnlab.tasks.text` or :mod:`rnnlab.sampling`."""

from __future__ import annotations

import argparse
import itertools
import sys
from datetime import datetime
from pathlib import Path

from rnnlab.commands.common import COUNT, FRACTION, NONNEGATIVE, POSITIVE, PROBABILITY, RATE, add_training_options, real
from rnnlab.nn import LAYERS


def register(commands) -> None:
    text = commands.add_parser("text", help="character- and word-level language models: train, generate")
    sub = text.add_subparsers(dest="text_command", required=True, metavar="ACTION")

    train = sub.add_parser("train", help="train a language model on a text file or folder (default: Shakespeare)")
    train.add_argument("file", nargs="?", default=None,
                       help="a UTF-8 text file, or a folder of *.txt files; default: the built-in complete works of "
                            "Shakespeare (~5 MB)")  # fmt: skip
    train.add_argument("--encoding", default="utf-8", help="of the text (e.g. latin-1)")
    train.add_argument("--level", choices=("char", "word"), default="char", help="tokens (default char)")
    train.add_argument("--max-vocab", type=POSITIVE, default=10_000,
                       help="word level: most frequent words kept, the rest become <unk> (default 10000)")  # fmt: skip
    train.add_argument(
        "--val-fraction", type=FRACTION, default=0.1, help="validation: the end of the text (default 0.1)"
    )
    train.add_argument("--cell", choices=tuple(LAYERS), default="lstm")
    train.add_argument("--embedding-dim", type=POSITIVE, default=128)
    train.add_argument("--hidden-size", type=POSITIVE, default=512)
    train.add_argument("--layers", type=POSITIVE, default=2)
    train.add_argument("--dropout", type=PROBABILITY, default=0.2)
    train.add_argument("--tie-weights", action="store_true", help="the head reuses the embedding (needs "
                       "--embedding-dim equal to --hidden-size)")  # fmt: skip
    train.add_argument("--batch-size", type=POSITIVE, default=64, help="parallel streams of text (default 64)")
    train.add_argument("--bptt", type=POSITIVE, default=128, help="tokens per batch and gradient horizon (default 128)")
    train.add_argument("--epochs", type=POSITIVE, default=50, help="passes over the text, at most (default 50)")
    train.add_argument("--lr", type=RATE, default=2e-3)
    train.add_argument("--clip-norm", type=NONNEGATIVE, default=1.0)
    train.add_argument(
        "--patience", type=POSITIVE, default=4, help="epochs without a better validation loss (default 4)"
    )
    train.add_argument("--seed", type=COUNT, default=0)
    train.add_argument("--run-dir", default=None, help="default runs/text-<time>")
    train.add_argument("--resume", action="store_true", help="continue the run in --run-dir")
    train.add_argument("--no-progress", action="store_true")
    add_training_options(train)
    train.set_defaults(func=_train)

    generate = sub.add_parser("generate", help="sample text from a trained model, printed as it is sampled")
    generate.add_argument("--checkpoint", required=True, help="a text run folder, or its best.safetensors")
    generate.add_argument("--prime", default="\n", help="text to start from (default: a line break)")
    generate.add_argument("--length", type=POSITIVE, default=500, help="tokens to sample (default 500)")
    generate.add_argument("--temperature", type=RATE, default=0.8, help="> 0; lower is safer (default 0.8)")
    generate.add_argument("--top-k", type=COUNT, default=0, help="sample among the k most likely tokens (0: all)")
    generate.add_argument(
        "--top-p", type=real(above=0, at_most=1), default=1.0, help="nucleus: the smallest set with this probability"
    )
    generate.add_argument("--seed", type=COUNT, default=0, help="the same seed and prime give the same text")
    generate.set_defaults(func=_generate)


def _train(args: argparse.Namespace) -> None:
    from rnnlab.tasks.text import load_corpus, train_text
    from rnnlab.train import TrainConfig

    train_config = TrainConfig(epochs=args.epochs, lr=args.lr, clip_norm=args.clip_norm, patience=args.patience,
                               lr_patience=1, seed=args.seed, max_seconds=(args.minutes or 0) * 60,
                               progress=not args.no_progress)  # fmt: skip
    model_config = {"cell": args.cell, "embedding_dim": args.embedding_dim, "hidden_size": args.hidden_size,
                    "num_layers": args.layers, "dropout": args.dropout, "tie_weights": args.tie_weights}  # fmt: skip
    from rnnlab.models.language_model import LanguageModelConfig

    LanguageModelConfig(vocab_size=1, **model_config)  # check the shape before reading the text
    corpus = load_corpus(args.file, level=args.level, val_fraction=args.val_fraction, max_vocab=args.max_vocab,
                         encoding=args.encoding)  # fmt: skip
    run_dir = args.run_dir or f"runs/text-{datetime.now():%Y%m%d-%H%M%S}"
    _, summary = train_text(corpus, model_config, train_config, run_dir=run_dir, batch_size=args.batch_size,
                            bptt=args.bptt, resume=args.resume)  # fmt: skip
    unit = f"{summary['val_bpc']:.3f} bits/char" if "val_bpc" in summary else f"perplexity {summary['val_ppl']:.1f}"
    print(f"best validation loss {summary['val_loss']:.4f} nats/token ({unit}) at epoch {summary['best_epoch']}")
    print(Path(run_dir, "sample.txt").read_text(encoding="utf-8"))
    print(f"run folder: {run_dir} (best.safetensors, vocab.json, metrics.jsonl, sample.txt, report.html)")
    print(f'sample more: rnnlab text generate --checkpoint {run_dir} --prime "ROMEO:" --length 300')


def _generate(args: argparse.Namespace) -> None:
    from rnnlab.data.corpus import text_piece, tokenize
    from rnnlab.sampling import check_sampling, sample_tokens
    from rnnlab.tasks.text import load_language_model

    check_sampling(args.temperature, args.top_k, args.top_p)  # before loading anything
    model, vocab, level = load_language_model(args.checkpoint)
    prime = args.prime.replace("\\n", "\n")
    tokens = sample_tokens(model, vocab, level, prime, args.length, temperature=args.temperature, top_k=args.top_k,
                           top_p=args.top_p, seed=args.seed)  # fmt: skip
    previous = tokenize(prime, level)[-1:] or [None]
    first = next(tokens)  # errors about the prime come before anything is printed
    sys.stdout.write(prime)
    for token in itertools.chain([first], tokens):
        sys.stdout.write(text_piece(previous[0], token, level))
        sys.stdout.flush()
        previous = [token]
    sys.stdout.write("\n")
