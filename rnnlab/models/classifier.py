"""Many-to-one: a sequence (token ids or feature vectors) → (embedding →) RNN/LSTM/GRU → pooling → class logits.

Padding never reaches the representation: the recurrent layer gets the true ``lengths`` (torch's packed kernels on
the fused path, masking on the loop), and the pooling ignores the steps past each length:

- ``last``: the state after each sequence's last real token (for a bidirectional layer, the forward direction at the
  last token and the backward direction at the first, i.e. both directions' final states);
- ``mean``: the average of the outputs over the real steps;
- ``max``: the maximum over the real steps;
- ``meanmax``: both, concatenated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn

from rnnlab.checkpoint import fingerprint
from rnnlab.nn import checks
from rnnlab.nn.init import keras_init_
from rnnlab.nn.layers import GRU, LSTM, RNN

LAYERS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}
POOLINGS = ("last", "mean", "max", "meanmax")


@dataclass(frozen=True)
class ClassifierConfig:
    """The network's shape."""

    cell: str = "lstm"  # 'lstm', 'gru' or 'rnn'
    hidden_size: int = 64  # per direction
    num_layers: int = 1  # stacked layers
    bidirectional: bool = True  # read the sequence both ways
    pooling: str = "meanmax"  # 'last', 'mean', 'max' or 'meanmax'
    embedding_dim: int = 128  # token embedding size (text only)
    dropout: float = 0.3  # on the embeddings, between layers and before the head
    init: str = "keras"  # 'keras' (Glorot, orthogonal, forget bias 1) or 'torch'
    class_weights: str = "none"  # 'balanced': weigh the loss by inverse class frequency

    def __post_init__(self) -> None:
        checks.one_of("cell", self.cell, tuple(LAYERS))
        checks.one_of("pooling", self.pooling, POOLINGS)
        checks.one_of("init", self.init, ("keras", "torch"))
        checks.one_of("class_weights", self.class_weights, ("none", "balanced"))
        checks.positive_int("hidden_size", self.hidden_size)
        checks.positive_int("num_layers", self.num_layers)
        checks.positive_int("embedding_dim", self.embedding_dim)
        checks.dropout_probability(self.dropout)


def pool(outputs: Tensor, lengths: Tensor, how: str, *, bidirectional: bool) -> Tensor:
    """Pool ``outputs`` ``(B, T, D*H)`` over the real steps of each sequence → ``(B, D*H)`` (``2*D*H`` for meanmax)."""
    steps = torch.arange(outputs.shape[1], device=outputs.device)  # (T,)
    mask = (steps[None, :] < lengths.to(outputs.device)[:, None]).unsqueeze(-1)  # (B, T, 1)
    if how == "last":
        last = outputs[torch.arange(len(outputs)), lengths - 1]  # (B, D*H): forward final state at the last token
        if bidirectional:
            half = outputs.shape[-1] // 2
            last = torch.cat([last[:, :half], outputs[:, 0, half:]], dim=-1)  # backward final state is at t = 0
        return last
    mean = (outputs * mask).sum(dim=1) / lengths.to(outputs)[:, None]  # (B, D*H)
    largest = outputs.masked_fill(~mask, float("-inf")).max(dim=1).values  # (B, D*H)
    return {"mean": mean, "max": largest, "meanmax": torch.cat([mean, largest], dim=-1)}[how]


class SequenceClassifierNet(nn.Module):
    """Token ids ``(B, T)`` (``vocab_size`` > 0) or features ``(B, T, F)`` (``input_size`` > 0) → logits ``(B, C)``."""

    def __init__(self, config: ClassifierConfig, *, classes: int, vocab_size: int = 0, input_size: int = 0) -> None:
        super().__init__()
        if (vocab_size > 0) == (input_size > 0):
            raise ValueError("give exactly one of vocab_size (token ids) and input_size (feature vectors)")
        self.config, self.classes = config, classes
        self.embedding = nn.Embedding(vocab_size, config.embedding_dim, padding_idx=0) if vocab_size else None
        features = config.embedding_dim if vocab_size else input_size
        dropout_between = config.dropout if config.num_layers > 1 else 0.0
        self.rnn = LAYERS[config.cell](features, config.hidden_size, num_layers=config.num_layers, batch_first=True,
                                       bidirectional=config.bidirectional, dropout=dropout_between)  # fmt: skip
        if config.init == "keras":
            keras_init_(self.rnn)
        width = config.hidden_size * (2 if config.bidirectional else 1) * (2 if config.pooling == "meanmax" else 1)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(width, classes)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        inputs = self.embedding(x) if self.embedding is not None else x  # (B, T, E) or (B, T, F)
        outputs, _ = self.rnn(self.dropout(inputs), lengths=lengths)  # (B, T, D*H), zero past each length
        pooled = pool(outputs, lengths, self.config.pooling, bidirectional=self.config.bidirectional)
        return self.head(self.dropout(pooled))  # (B, C)


class _SequenceTask:
    """The :class:`~rnnlab.train.TrainingTask` of classification: shuffled batches of padded sequences (token ids or
    feature vectors), each cut to its longest sequence; validation loss, accuracy and error."""

    def __init__(
        self, train: tuple[Tensor, Tensor, Tensor], val: tuple[Tensor, Tensor, Tensor], batch: int, balanced: bool
    ) -> None:
        self.train, self.val, self.batch = train, val, batch
        counts = torch.bincount(train[2]).float()  # (C,)
        self.weight = counts.sum() / (len(counts) * counts.clamp(min=1)) if balanced else None  # n / (C · n_c)

    def fingerprint(self) -> str:
        return fingerprint(self.train, self.val)

    def batches(self, epoch: int, generator: torch.Generator):
        order = torch.randperm(len(self.train[0]), generator=generator)
        return [order[i : i + self.batch] for i in range(0, len(order), self.batch)]

    def loss(self, model: nn.Module, batch: Tensor, state):
        tokens, lengths, labels = (t[batch] for t in self.train)
        logits = model(tokens[:, : int(lengths.max())], lengths)  # (B, C)
        return nn.functional.cross_entropy(logits, labels, weight=self.weight), None

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        tokens, lengths, labels = self.val
        logits = torch.cat([model(tokens[i : i + 512], lengths[i : i + 512]) for i in range(0, len(tokens), 512)])
        accuracy = (logits.argmax(-1) == labels).float().mean().item()
        loss = nn.functional.cross_entropy(logits, labels).item()
        return {"val_loss": loss, "val_accuracy": accuracy, "val_error": 1.0 - accuracy}

    def batch_size(self, batch: Tensor) -> int:
        return len(batch)


def label_tensors(labels: list[str], val_labels: list[str]) -> tuple[list[str], Tensor, Tensor]:
    """The sorted classes and the class indices of the training and validation labels."""
    classes = sorted(set(labels))
    unseen = sorted(set(val_labels) - set(classes))
    if unseen:
        raise ValueError(f"validation labels {unseen} do not occur in the training part")
    index = {c: i for i, c in enumerate(classes)}
    return classes, torch.tensor([index[y] for y in labels]), torch.tensor([index[y] for y in val_labels])


def train_net(net: SequenceClassifierNet, train, val, batch_size: int, train_config, run_dir, metadata, log):
    """Fit ``net`` on ``(inputs, lengths, classes)`` tensors with the shared loop; leaves it in eval mode."""
    from rnnlab.train import fit

    task = _SequenceTask(train, val, batch_size, net.config.class_weights == "balanced")
    result = fit(net, task, train_config, run_dir, metadata=metadata, log=log)
    net.eval()
    return result


def feature_scaling(sequences: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation (1 where a feature is constant) over every step of every sequence."""
    steps = np.concatenate(sequences)  # (Σ T_i, F)
    spread = steps.std(axis=0)
    return steps.mean(axis=0), np.where(spread > 1e-12, spread, 1.0)


def encode_texts(vocab, texts: list[str], max_length: int) -> tuple[Tensor, Tensor]:
    """Token ids ``(N, T)`` padded with 0 and lengths ``(N,)``; a text with no known word keeps one ``<unk>``."""
    from rnnlab.data.text import UNK, word_tokens

    ids = [vocab.encode(word_tokens(t))[:max_length] or [vocab.id(UNK)] for t in texts]
    lengths = torch.tensor([len(i) for i in ids])
    tokens = torch.zeros(len(ids), int(lengths.max()), dtype=torch.long)
    for row, sequence in enumerate(ids):
        tokens[row, : len(sequence)] = torch.tensor(sequence)
    return tokens, lengths


@dataclass
class TextClassifier:
    """Words → classes: ``TextClassifier(config).fit(labelled, run_dir=...)``, then ``predict`` / ``predict_proba``.

    The vocabulary is built from the training part only (``max_vocab`` words, the rest ``<unk>``); texts are cut at
    ``max_length`` words. Early stopping watches the validation error (``train_config.monitor``).
    """

    config: ClassifierConfig = field(default_factory=ClassifierConfig)
    max_vocab: int = 20_000  # words kept, specials included
    max_length: int = 200  # words per text, at most
    batch_size: int = 64
    vocab: object = None  # rnnlab.data.text.Vocabulary once fitted
    classes: list[str] | None = None
    net: SequenceClassifierNet | None = None
    result: object = None  # rnnlab.train.FitResult of the last fit

    def fit(self, texts: list[str], labels: list[str], *, val_texts: list[str], val_labels: list[str], run_dir,
            train_config=None, log=print) -> TextClassifier:  # fmt: skip
        from rnnlab.data.text import Vocabulary, word_tokens
        from rnnlab.train import TrainConfig

        train_config = train_config or TrainConfig(monitor="val_error", patience=4, lr=3e-3)
        self.classes, y, y_val = label_tensors(labels, val_labels)
        self.vocab = Vocabulary.build((word_tokens(t) for t in texts), max_size=self.max_vocab)
        torch.manual_seed(train_config.seed)
        self.net = SequenceClassifierNet(self.config, classes=len(self.classes), vocab_size=len(self.vocab))
        metadata = {"task": "classify", "model": {"vocab_size": len(self.vocab), "classes": self.classes,
                    **self.config.__dict__}, "vocab": self.vocab.to_json()}  # fmt: skip
        train = (*encode_texts(self.vocab, texts, self.max_length), y)
        val = (*encode_texts(self.vocab, val_texts, self.max_length), y_val)
        self.result = train_net(self.net, train, val, self.batch_size, train_config, run_dir, metadata, log)
        return self

    @torch.no_grad()
    def predict_proba(self, texts: list[str]):
        """Class probabilities ``(N, C)`` as a NumPy array, columns in the order of ``classes``."""
        if self.net is None:
            raise ValueError("this classifier is not trained")
        self.net.eval()
        tokens, lengths = encode_texts(self.vocab, texts, self.max_length)
        chunks = [self.net(tokens[i : i + 512], lengths[i : i + 512]) for i in range(0, len(tokens), 512)]
        return torch.cat(chunks).softmax(-1).numpy()

    def predict(self, texts: list[str]) -> list[str]:
        return [self.classes[i] for i in self.predict_proba(texts).argmax(axis=1)]

    @torch.no_grad()
    def prefix_probabilities(self, text: str) -> tuple[list[str], np.ndarray]:
        """The words of ``text`` and the class probabilities after each prefix ``(T, C)``: how the prediction
        evolves along the sentence ("not" flipping "good")."""
        from rnnlab.data.text import word_tokens

        words = word_tokens(text)[: self.max_length] or ["<unk>"]
        prefixes = [" ".join(words[: t + 1]) for t in range(len(words))]
        return words, self.predict_proba(prefixes)

    @classmethod
    def load(cls, path) -> TextClassifier:
        """A classifier from the ``best.safetensors`` of its run (weights, config and vocabulary; no pickle)."""
        from rnnlab.checkpoint import load_checkpoint, load_error, strip_prefix
        from rnnlab.data.text import Vocabulary
        from rnnlab.errors import RnnlabError

        tensors, meta = load_checkpoint(path, task="classify")
        try:
            model = dict(meta["model"])
            vocab_size, classes = model.pop("vocab_size"), model.pop("classes")
            config = ClassifierConfig(**model)
            net = SequenceClassifierNet(config, classes=len(classes), vocab_size=vocab_size)
            net.load_state_dict(strip_prefix("model", tensors))
        except (KeyError, TypeError, RuntimeError, ValueError) as exc:
            raise RnnlabError(f"{path} does not hold a usable text classifier: {load_error(exc)}") from exc
        net.eval()
        return cls(config=config, vocab=Vocabulary.from_json(meta["vocab"]), classes=classes, net=net)


def pad_sequences(sequences: list[np.ndarray], mean: np.ndarray, scale: np.ndarray) -> tuple[Tensor, Tensor]:
    """Standardised feature sequences padded with zeros ``(N, T, F)`` and their lengths ``(N,)``."""
    lengths = torch.tensor([len(s) for s in sequences])
    padded = torch.zeros(len(sequences), int(lengths.max()), sequences[0].shape[1])
    for row, sequence in enumerate(sequences):
        padded[row, : len(sequence)] = torch.from_numpy(((sequence - mean) / scale).astype(np.float32))
    return padded, lengths


@dataclass
class NumericClassifier:
    """Multivariate sequences ``(T_i, F)`` of any lengths → classes; features standardised on the training part."""

    config: ClassifierConfig = field(default_factory=ClassifierConfig)
    batch_size: int = 32
    mean: np.ndarray | None = None  # (F,)
    scale: np.ndarray | None = None  # (F,)
    classes: list[str] | None = None
    net: SequenceClassifierNet | None = None
    result: object = None  # rnnlab.train.FitResult of the last fit

    def fit(self, sequences: list[np.ndarray], labels: list[str], *, val_sequences: list[np.ndarray],
            val_labels: list[str], run_dir, train_config=None, log=print) -> NumericClassifier:  # fmt: skip
        from rnnlab.train import TrainConfig

        # validation loss, not error: a few dozen validation sequences reach zero error at once and stop improving
        train_config = train_config or TrainConfig(monitor="val_loss", patience=15, lr=3e-3)
        self.mean, self.scale = feature_scaling(sequences)
        self.classes, y, y_val = label_tensors(labels, val_labels)
        features = len(self.mean)
        torch.manual_seed(train_config.seed)
        self.net = SequenceClassifierNet(self.config, classes=len(self.classes), input_size=features)
        metadata = {"task": "classify", "model": {"input_size": features, "classes": self.classes,
                    **self.config.__dict__}, "mean": self.mean.tolist(), "scale": self.scale.tolist()}  # fmt: skip
        train = (*pad_sequences(sequences, self.mean, self.scale), y)
        val = (*pad_sequences(val_sequences, self.mean, self.scale), y_val)
        self.result = train_net(self.net, train, val, self.batch_size, train_config, run_dir, metadata, log)
        return self

    @torch.no_grad()
    def predict_proba(self, sequences: list[np.ndarray]) -> np.ndarray:
        self.net.eval()
        x, lengths = pad_sequences(sequences, self.mean, self.scale)
        return (
            torch.cat([self.net(x[i : i + 512], lengths[i : i + 512]) for i in range(0, len(x), 512)])
            .softmax(-1)
            .numpy()
        )

    def predict(self, sequences: list[np.ndarray]) -> list[str]:
        return [self.classes[i] for i in self.predict_proba(sequences).argmax(axis=1)]


@dataclass
class TextEnsemble:
    """Several text classifiers trained from different seeds; their class probabilities are averaged."""

    members: list[TextClassifier]

    @property
    def classes(self) -> list[str]:
        return self.members[0].classes

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return np.mean([m.predict_proba(texts) for m in self.members], axis=0)

    def predict(self, texts: list[str]) -> list[str]:
        return [self.classes[i] for i in self.predict_proba(texts).argmax(axis=1)]

    def prefix_probabilities(self, text: str) -> tuple[list[str], np.ndarray]:
        words, _ = self.members[0].prefix_probabilities(text)
        return words, np.mean([m.prefix_probabilities(text)[1] for m in self.members], axis=0)

    @classmethod
    def load(cls, path) -> TextClassifier | TextEnsemble:
        """A ``best.safetensors``, or a run folder of ``member-*/best.safetensors`` (an ensemble)."""
        from pathlib import Path

        path = Path(path)
        if path.is_dir():
            files = sorted(path.glob("member-*/best.safetensors")) or sorted(path.glob("best.safetensors"))
            if not files:
                from rnnlab.errors import RnnlabError

                raise RnnlabError(f"no best.safetensors (or member-*/best.safetensors) in {path}")
            members = [TextClassifier.load(f) for f in files]
            return members[0] if len(members) == 1 else cls(members)
        return TextClassifier.load(path)


SequenceClassifier = NumericClassifier  # the name users look for: multivariate sequences → classes
