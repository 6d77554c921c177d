"""``rnnlab speech train | evaluate | predict | watch``: arguments in, a call to :mod:`rnnlab.tasks.speech`."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from rnnlab.commands.common import COUNT, POSITIVE, PROBABILITY, RATE, add_run_options, add_training_options
from rnnlab.nn import LAYERS


def register(commands) -> None:
    speech = commands.add_parser("speech", help="spoken words: recognise isolated words, spot words in a recording")
    sub = speech.add_subparsers(dest="speech_command", required=True, metavar="ACTION")

    train = sub.add_parser("train", help="train the word recogniser and the spotter; test beside DTW")
    train.add_argument("--data", default="builtin",
                       help="builtin (default: 36 words, synthetic voices to train, a real speaker to test), a folder "
                            "with a sub-folder of WAV files per word, or a CSV of path,label")  # fmt: skip
    train.add_argument("--cell", choices=tuple(LAYERS), default="gru")
    train.add_argument("--hidden-size", type=POSITIVE, default=128)
    train.add_argument("--layers", type=POSITIVE, default=2)
    train.add_argument("--dropout", type=PROBABILITY, default=0.3)
    train.add_argument("--spotter-hidden", type=COUNT, default=128, help="the streaming spotter's width (0: none)")
    train.add_argument("--keyword", default="seven", help="the wake word reported on its own (default seven)")
    train.add_argument("--no-augment", action="store_true", help="no time/frequency stretching or masking")
    train.add_argument(
        "--label-smoothing",
        type=PROBABILITY,
        default=0.1,
        help="the recogniser's targets: 1 - ε on the word, ε over every word (0: none)",
    )
    train.add_argument("--noise-snr", type=float, nargs=2, default=(5.0, 30.0), metavar=("LOW", "HIGH"),
                       help="the SNR range in dB of each training clip's noisy copy (default 5 30)")  # fmt: skip
    train.add_argument("--test-minutes", type=RATE, default=30.0, help="minutes of test streams for spotting")
    train.add_argument("--batch-size", type=POSITIVE, default=64)
    train.add_argument("--epochs", type=POSITIVE, default=12)
    train.add_argument("--lr", type=RATE, default=2e-3)
    train.add_argument("--patience", type=POSITIVE, default=4)
    add_run_options(train, "speech")
    add_training_options(train)
    train.set_defaults(func=_train)

    evaluate = sub.add_parser("evaluate", help="word accuracy on a folder per word, or the built-in test sets")
    evaluate.add_argument("--checkpoint", required=True, help="a run folder")
    evaluate.add_argument("--data", default=None)
    evaluate.set_defaults(func=_evaluate)

    predict = sub.add_parser("predict", help="the word said in each WAV file")
    predict.add_argument("--checkpoint", required=True, help="a run folder")
    predict.add_argument("files", nargs="+", help="WAV files")
    predict.set_defaults(func=_predict)

    watch = sub.add_parser("watch", help="read a long recording as it arrives; print when a word is heard")
    watch.add_argument("--checkpoint", required=True, help="a run folder (with spotter.safetensors)")
    watch.add_argument("--keyword", default=None, help="only this word (default: every word)")
    watch.add_argument("--threshold", type=PROBABILITY, default=None, help="default: chosen on validation")
    watch.add_argument("audio", help="a WAV file")
    watch.set_defaults(func=_watch)


def _train(args: argparse.Namespace) -> None:
    from rnnlab.models.speech import SpeechConfig
    from rnnlab.tasks.speech import train_run
    from rnnlab.train import TrainConfig

    config = SpeechConfig(cell=args.cell, hidden_size=args.hidden_size, num_layers=args.layers, dropout=args.dropout,
                          spotter_hidden=args.spotter_hidden, batch_size=args.batch_size,
                          augment=not args.no_augment, noise_snr=tuple(args.noise_snr),
                          label_smoothing=args.label_smoothing)  # fmt: skip
    train_config = TrainConfig(epochs=args.epochs, lr=args.lr, patience=args.patience, seed=args.seed, lr_patience=2,
                               progress=not args.no_progress, max_seconds=(args.minutes or 0) * 60)  # fmt: skip
    name = args.data if args.data == "builtin" else Path(args.data).stem
    run_dir = args.run_dir or f"runs/speech-{name}-{datetime.now():%Y%m%d-%H%M%S}"
    train_run(
        args.data,
        config,
        train_config,
        run_dir=run_dir,
        keyword=args.keyword,
        test_minutes=args.test_minutes,
        resume=args.resume,
    )


def _evaluate(args: argparse.Namespace) -> None:
    from rnnlab.tasks.speech import evaluate_run

    evaluate_run(args.checkpoint, data=args.data)


def _predict(args: argparse.Namespace) -> None:
    from rnnlab.tasks.speech import predict_run

    predict_run(args.checkpoint, args.files)


def _watch(args: argparse.Namespace) -> None:
    from rnnlab.tasks.speech import watch_run

    watch_run(args.checkpoint, args.audio, keyword=args.keyword, threshold=args.threshold)
