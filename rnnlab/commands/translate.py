"""``rnnlab translate train | run``: arguments in, a call to :mod:`rnnlab.tasks.translate`."""

from __future__ import annotations

import argparse
from datetime import datetime

from rnnlab.checkpoint import check_output
from rnnlab.commands.common import COUNT, FRACTION, NONNEGATIVE, POSITIVE, PROBABILITY, RATE, add_training_options
from rnnlab.nn import LAYERS


def _forcing(text: str) -> tuple[float, float]:
    """``1.0`` (constant) or ``1.0:0.5`` (from the first epoch to the last)."""
    try:
        values = [float(v) for v in text.split(":")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a ratio like 1.0 or a schedule like 1.0:0.5, got {text!r}"
        ) from None
    if len(values) not in (1, 2) or not all(0.0 <= v <= 1.0 for v in values):
        raise argparse.ArgumentTypeError(f"teacher forcing ratios are in [0, 1], as 1.0 or 1.0:0.5; got {text!r}")
    return (values[0], values[-1])


def register(commands) -> None:
    translate = commands.add_parser("translate", help="sequence-to-sequence translation with attention")
    sub = translate.add_subparsers(dest="translate_command", required=True, metavar="ACTION")

    train = sub.add_parser("train", help="train an encoder-decoder, evaluate greedy and beam search on a test split")
    train.add_argument("--data", default=None, help="a TSV of pairs: source<TAB>target[<TAB>ignored...]")
    train.add_argument("--builtin", choices=("dates", "numbers"), default=None,
                       help="generated pairs: dates in 14 languages → ISO, or English numbers → French")  # fmt: skip
    train.add_argument("--pairs", type=POSITIVE, default=None, help="with --builtin: how many (default 30000)")
    train.add_argument("--encoding", default="utf-8")
    train.add_argument("--level", choices=("word", "char"), default=None,
                       help="tokens (default word; char for --builtin dates)")  # fmt: skip
    train.add_argument("--max-vocab", type=POSITIVE, default=None, help="per side, most frequent first (default: all)")
    train.add_argument("--max-length", type=POSITIVE, default=50, help="training pairs longer than this are left out")
    train.add_argument("--cell", choices=tuple(LAYERS), default="lstm")
    train.add_argument("--attention", choices=("dot", "general", "additive"), default="general")
    train.add_argument("--no-input-feeding", action="store_true", help="do not feed h̃_{t-1} to the next step")
    train.add_argument("--unidirectional", action="store_true", help="encoder reads left to right only")
    train.add_argument("--embedding-dim", type=POSITIVE, default=256)
    train.add_argument("--hidden-size", type=POSITIVE, default=256)
    train.add_argument("--layers", type=POSITIVE, default=1)
    train.add_argument("--dropout", type=PROBABILITY, default=0.3)
    train.add_argument("--teacher-forcing", type=_forcing, default=(1.0, 1.0),
                       help="chance of feeding the reference token: 1.0, or 1.0:0.7 (first → last epoch)")  # fmt: skip
    train.add_argument("--label-smoothing", type=PROBABILITY, default=0.1,
                       help="training targets get 1-ε, the rest ε spread evenly (default 0.1; 0 disables)")  # fmt: skip
    train.add_argument("--epochs", type=POSITIVE, default=40)
    train.add_argument("--batch-size", type=POSITIVE, default=64)
    train.add_argument("--lr", type=RATE, default=2e-3)
    train.add_argument("--patience", type=POSITIVE, default=5)
    train.add_argument("--beam", type=POSITIVE, default=5, help="beam size for the test set, beside greedy (default 5)")
    train.add_argument(
        "--alpha", type=NONNEGATIVE, default=0.6, help="length normalisation ((5+|Y|)/6)^α (default 0.6)"
    )
    train.add_argument("--test-fraction", type=FRACTION, default=0.1, help="of the distinct source sentences")
    train.add_argument("--val-fraction", type=FRACTION, default=0.1)
    train.add_argument("--seed", type=COUNT, default=0)
    train.add_argument("--run-dir", default=None, help="default runs/translate-<time>")
    train.add_argument("--resume", action="store_true")
    train.add_argument("--no-progress", action="store_true")
    add_training_options(train)
    train.set_defaults(func=_train)

    run = sub.add_parser("run", help="translate sentences with a trained model")
    run.add_argument("--checkpoint", required=True, help="a translate run folder, or its best.safetensors")
    run.add_argument("sentences", nargs="*", help="sentences to translate")
    run.add_argument("--input", default=None, help="a file of sentences, one a line")
    run.add_argument("--encoding", default="utf-8")
    run.add_argument("--beam", type=POSITIVE, default=5, help="beam size; 1 is greedy (default 5)")
    run.add_argument("--n-best", type=POSITIVE, default=1, help="translations per sentence, best first (≤ --beam)")
    run.add_argument("--alpha", type=NONNEGATIVE, default=0.6, help="length normalisation exponent (default 0.6)")
    run.add_argument("--max-length", type=POSITIVE, default=None, help="output tokens at most (default 2·source + 10)")
    run.add_argument("--attention", default=None, help="save the attention map of the first sentence to this PNG")
    run.set_defaults(func=_run)


def _train(args: argparse.Namespace) -> None:
    from rnnlab.data.generated_pairs import LEVELS, builtin_pairs
    from rnnlab.data.pairs import read_pairs, split_by_source
    from rnnlab.decoding import check_beam
    from rnnlab.models.seq2seq import Seq2SeqConfig
    from rnnlab.tasks.translate import train_translation
    from rnnlab.train import TrainConfig

    if (args.data is None) == (args.builtin is None):
        raise ValueError("give either --data FILE.tsv or --builtin dates|numbers")
    check_beam(args.beam, 1)
    if not 0 <= args.label_smoothing < 1:
        raise ValueError(f"--label-smoothing must be in [0, 1), got {args.label_smoothing}")
    model_config = {"cell": args.cell, "embedding_dim": args.embedding_dim, "hidden_size": args.hidden_size,
                    "num_layers": args.layers, "bidirectional": not args.unidirectional,
                    "attention": args.attention, "input_feeding": not args.no_input_feeding,
                    "dropout": args.dropout}  # fmt: skip
    Seq2SeqConfig(source_vocab=1, target_vocab=1, **model_config)  # check the shape before reading data
    train_config = TrainConfig(epochs=args.epochs, lr=args.lr, patience=args.patience, lr_patience=2, seed=args.seed,
                               progress=not args.no_progress, max_seconds=(args.minutes or 0) * 60)  # fmt: skip
    if args.builtin:
        pairs, source = builtin_pairs(args.builtin, args.pairs, seed=args.seed), f"built-in {args.builtin}"
        level = args.level or LEVELS[args.builtin]
    else:
        pairs, source, level = read_pairs(args.data, encoding=args.encoding), args.data, args.level or "word"
    train, val, test = split_by_source(pairs, test_fraction=args.test_fraction, val_fraction=args.val_fraction,
                                       seed=args.seed)  # fmt: skip
    run_dir = args.run_dir or f"runs/translate-{datetime.now():%Y%m%d-%H%M%S}"
    train_translation(train, val, test, level=level, model_config=model_config, train_config=train_config,
                      run_dir=run_dir, source=source, max_vocab=args.max_vocab, max_length=args.max_length,
                      batch_size=args.batch_size, teacher_forcing=args.teacher_forcing,
                      label_smoothing=args.label_smoothing, beam=args.beam,
                      alpha=args.alpha, resume=args.resume)  # fmt: skip
    print(f"run folder: {run_dir} (report.html, translations.tsv, evaluation.json, best.safetensors)")
    print(f'translate more: rnnlab translate run --checkpoint {run_dir} "a sentence" --attention attention.png')


def _run(args: argparse.Namespace) -> None:
    from rnnlab.data.text import read_text
    from rnnlab.decoding import check_beam
    from rnnlab.errors import RnnlabError
    from rnnlab.inspection.plots import save_figure
    from rnnlab.models.translator import Translator
    from rnnlab.tasks.translate import attention_figure

    check_beam(args.beam, args.max_length or 1, args.n_best)
    sentences = list(args.sentences)
    check_output(args.attention, args.input, args.checkpoint)
    if args.input:
        sentences += [line for line in read_text(args.input, encoding=args.encoding).splitlines() if line.strip()]
    if not sentences:
        raise RnnlabError("nothing to translate: give sentences or --input FILE")
    translator = Translator.load(args.checkpoint)
    results = translator.translate(sentences, beam=args.beam, n_best=args.n_best, alpha=args.alpha,
                                   max_length=args.max_length, strict=True)  # fmt: skip
    for sentence, translations in zip(sentences, results, strict=True):
        if args.n_best == 1:
            print(translations[0].text)
            continue
        print(sentence)
        for rank, t in enumerate(translations, start=1):
            print(f"  {rank}. {t.text}    (log p {t.score:.3f}, normalised {t.normalized:.3f})")
    if args.attention:
        save_figure(attention_figure(results[0][0], title=f"{sentences[0]} → {results[0][0].text}"), args.attention)
        print(f"attention map: {args.attention}")
