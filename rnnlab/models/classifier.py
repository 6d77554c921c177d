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
from rnnlab.models.ngrams import NGramModel
from rnnlab.nn import LAYERS, checks
from rnnlab.nn.init import keras_init_

POOLINGS = ("last", "mean", "max", "meanmax")


@dataclass(frozen=True)
class ClassifierConfig:
    """The network's shape."""

    cell: str = "lstm"  # a key of rnnlab.nn.LAYERS: lstm, gru, rnn, mingru, minlstm
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
        """Shuffled batches of similar lengths (sorted within pools of 50 batches), so that padding wastes little
        time; the order of the batches is shuffled again."""
        if hasattr(self, "on_epoch"):
            self.on_epoch(epoch)
        order = torch.randperm(len(self.train[0]), generator=generator)
        lengths = self.train[1][order]
        pool_size = 50 * self.batch
        batches = []
        for start in range(0, len(order), pool_size):
            pool = order[start : start + pool_size][lengths[start : start + pool_size].argsort(stable=True)]
            batches += [pool[i : i + self.batch] for i in range(0, len(pool), self.batch)]
        return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]

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


def train_net(net: SequenceClassifierNet, train, val, batch_size: int, train_config, run_dir, metadata, log,
              pretrained: bool = False):  # fmt: skip
    """Fit ``net`` on ``(inputs, lengths, classes)`` tensors with the shared loop; leaves it in eval mode. A
    ``pretrained`` encoder is fine-tuned with discriminative learning rates and gradual unfreezing."""
    from rnnlab.train import fit

    task = _SequenceTask(train, val, batch_size, net.config.class_weights == "balanced")
    if pretrained:
        from rnnlab.models.pretraining import fine_tuning_groups, gradual_unfreezing

        task.param_groups = fine_tuning_groups
        task.on_epoch = lambda epoch: gradual_unfreezing(net, epoch)
    result = fit(net, task, train_config, run_dir, metadata=metadata, log=log)
    net.eval()
    return result


def feature_scaling(sequences: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation (1 where a feature is constant) over every step of every sequence."""
    steps = np.concatenate(sequences)  # (Σ T_i, F)
    spread = steps.std(axis=0)
    return steps.mean(axis=0), np.where(spread > 1e-12, spread, 1.0)


TRUNCATIONS = ("head", "tail", "both")


def truncate(tokens: list, max_length: int, how: str) -> list:
    """At most ``max_length`` tokens: the first (``head``), the last (``tail``, where reviews often conclude), or
    half of each (``both``)."""
    if len(tokens) <= max_length:
        return tokens
    if how == "tail":
        return tokens[-max_length:]
    if how == "both":
        return tokens[: (max_length + 1) // 2] + tokens[len(tokens) - max_length // 2 :]
    return tokens[:max_length]


def encode_texts(vocab, texts: list[str], max_length: int, how: str = "head") -> tuple[Tensor, Tensor]:
    """Token ids ``(N, T)`` padded with 0 and lengths ``(N,)``; a text with no known word keeps one ``<unk>``."""
    from rnnlab.data.text import UNK, word_tokens

    ids = [truncate(vocab.encode(word_tokens(t)), max_length, how) or [vocab.id(UNK)] for t in texts]
    lengths = torch.tensor([len(i) for i in ids])
    tokens = torch.zeros(len(ids), int(lengths.max()), dtype=torch.long)
    for row, sequence in enumerate(ids):
        tokens[row, : len(sequence)] = torch.tensor(sequence)
    return tokens, lengths


def blended_proba(network_proba, linear, blend: float, texts: list[str], model: str) -> np.ndarray:
    """``blend`` × the network's probabilities + (1 − ``blend``) × the n-gram model's, or one of them alone
    (``model`` 'network' or 'n-grams'; 'best' is the validated blend, computing only the parts it weighs)."""
    if model == "n-grams" or (model == "best" and blend == 0 and linear is not None):
        return linear.predict_proba(texts)
    network = network_proba(texts)
    if model == "network" or linear is None or blend >= 1:
        return network
    return blend * network + (1 - blend) * linear.predict_proba(texts)


class TextClassifier:
    """Words → classes: a recurrent network and, beside it, a TF-IDF n-gram model; their probabilities are blended
    with the weight that does best on validation (:mod:`rnnlab.models.ngrams`).

    ``TextClassifier(cell="gru", hidden_size=64).fit(texts, labels)`` (a validation part is split off when none is
    given), or a table: ``fit(frame, text="review", label="sentiment")``; then ``predict`` / ``predict_proba``.
    The vocabulary is built from the training part only (``max_vocab`` words, the rest ``<unk>``); texts are cut to
    ``max_length`` words from the head, the tail or both (``truncate``). Early stopping watches the validation error.
    """

    config: ClassifierConfig  # the network's shape
    max_vocab: int  # words kept, specials included
    max_length: int  # words per text, at most
    batch_size: int
    vocab: object  # rnnlab.data.text.Vocabulary once fitted
    classes: list[str] | None
    net: SequenceClassifierNet | None
    result: object  # rnnlab.train.FitResult of the last fit
    truncate: str  # 'head', 'tail' or 'both'
    wide: bool  # keep the n-gram model beside the network
    linear: NGramModel | None
    blend: float  # the network's weight in the blended probabilities (1: the network alone)
    columns: dict | None  # the text and label columns of the training table, for evaluate

    def __init__(self, config: ClassifierConfig | None = None, *, max_vocab: int = 20_000, max_length: int = 200,
                 batch_size: int = 64, truncate: str = "head", wide: bool = True, vocab=None, classes=None, net=None,
                 linear: NGramModel | None = None, blend: float = 1.0, columns: dict | None = None,
                 pretrain: str = "auto", **options) -> None:  # fmt: skip
        from rnnlab.errors import RnnlabError

        unknown = sorted(set(options) - set(ClassifierConfig.__dataclass_fields__) - {"layers"})
        if unknown:
            known = sorted({*ClassifierConfig.__dataclass_fields__, "layers", "max_vocab", "max_length", "truncate",
                            "wide", "batch_size", "pretrain"})  # fmt: skip
            raise RnnlabError(f"TextClassifier has no option {unknown[0]!r}; options are: {', '.join(known)}")
        if "layers" in options:
            options["num_layers"] = options.pop("layers")
        checks.one_of("truncate", truncate, TRUNCATIONS)
        checks.one_of("pretrain", pretrain, ("auto", "on", "off"))
        self.pretrain = pretrain
        self.pretraining: dict | None = None  # the language model's perplexity, words and seconds
        self.config = config or ClassifierConfig(**options)
        self.max_vocab, self.max_length, self.batch_size, self.truncate = max_vocab, max_length, batch_size, truncate
        self.wide, self.vocab, self.classes, self.net = wide, vocab, classes, net
        self.result, self.linear, self.blend, self.columns = None, linear, blend, columns

    def fit(self, texts, labels=None, *, val_texts: list[str] | None = None, val_labels: list[str] | None = None,
            run_dir=None, train_config=None, text: str = "text", label: str = "label", unlabeled: list[str] = (),
            log=print) -> TextClassifier:  # fmt: skip
        """Train on ``texts`` (a list, a DataFrame with ``text`` and ``label`` columns, or a CSV path) and
        ``labels``; 10% of the training texts (stratified) validate when no validation part is given."""
        from datetime import datetime

        from rnnlab.data.text import Vocabulary, word_tokens
        from rnnlab.train import TrainConfig

        texts, labels = _texts_and_labels(texts, labels, text, label)
        if val_texts is None:
            from sklearn.model_selection import train_test_split

            texts, val_texts, labels, val_labels = train_test_split(texts, labels, test_size=0.1, stratify=labels,
                                                                    random_state=0)  # fmt: skip
        run_dir = run_dir or f"runs/classify-{datetime.now():%Y%m%d-%H%M%S-%f}"
        train_config = train_config or TrainConfig(monitor="val_error", patience=4, lr=3e-3, epochs=12)
        self.classes, y, y_val = label_tensors(labels, val_labels)
        self.vocab = Vocabulary.build((word_tokens(t) for t in texts), max_size=self.max_vocab)
        torch.manual_seed(train_config.seed)
        self.net = SequenceClassifierNet(self.config, classes=len(self.classes), vocab_size=len(self.vocab))
        pretrained = self.should_pretrain(texts, unlabeled)
        if pretrained:
            from rnnlab.models.pretraining import pretrain_encoder

            budget = train_config.max_seconds / 2 if train_config.max_seconds else 0.0
            result = pretrain_encoder(self.net, self.vocab, [*texts, *unlabeled], run_dir=run_dir,
                                      seed=train_config.seed, max_seconds=budget, log=log)  # fmt: skip
            self.pretraining = {"perplexity": result.perplexity, "words": result.tokens, "seconds": result.seconds}
        train = (*encode_texts(self.vocab, texts, self.max_length, self.truncate), y)
        val = (*encode_texts(self.vocab, val_texts, self.max_length, self.truncate), y_val)
        self.result = train_net(self.net, train, val, self.batch_size, train_config, run_dir, self.metadata(), log,
                                pretrained=pretrained)  # fmt: skip
        if self.wide:
            self.fit_wide(texts, labels, val_texts, val_labels, log)
            self.save(f"{run_dir}/best.safetensors")
        return self

    def should_pretrain(self, texts: list[str], unlabeled: list[str]) -> bool:
        """``pretrain='auto'``: when unlabelled text is given. Pretraining on the labelled texts alone was measured
        to hurt (sentence polarity: the network 70.0% with it, 76.8% without; 1,500 long reviews: 59% and 65%):
        a language model of a few hundred thousand words is too weak a start (README, text classification)."""
        if self.pretrain != "auto":
            return self.pretrain == "on"
        return bool(unlabeled)

    def fit_wide(self, texts, labels, val_texts, val_labels, log=print, network: np.ndarray | None = None) -> None:
        """The n-gram model (``C`` cross-validated on the training part) and the blend weight with the best validation
        accuracy;
        ``network``: the validation probabilities to blend (default: this network's)."""
        from rnnlab.models.ngrams import best_blend, choose_c

        best_c = choose_c(texts, labels)  # cross-validated on the training part: steadier than one small split
        linear = NGramModel.fit(texts, labels, self.classes, c=best_c).predict_proba(val_texts)
        truth = np.asarray([self.classes.index(v) for v in val_labels])
        network = self.network_proba(val_texts) if network is None else network
        self.blend, accuracy = best_blend(network, linear, val_labels, self.classes)
        alone = {"network": float(np.mean(network.argmax(axis=1) == truth)),
                 "n-grams": float(np.mean(linear.argmax(axis=1) == truth))}  # fmt: skip
        self.linear = NGramModel.fit([*texts, *val_texts], [*labels, *val_labels], self.classes, c=best_c)
        log(f"validation accuracy: network {alone['network']:.4f}, n-gram model {alone['n-grams']:.4f}, "
            f"blend {accuracy:.4f} with the network's weight {self.blend:.1f}")  # fmt: skip
        if self.blend == 0:
            log("on validation the n-gram model alone beats every blend with the network: the predictions are the "
                "n-gram model's (predict --model network to use the network)")  # fmt: skip

    @torch.no_grad()
    def network_proba(self, texts: list[str]) -> np.ndarray:
        """The network's class probabilities ``(N, C)``, columns in the order of ``classes``."""
        if self.net is None:
            from rnnlab.errors import RnnlabError

            raise RnnlabError("this classifier is not trained yet: call fit(texts, labels) or TextClassifier.load()")
        self.net.eval()
        tokens, lengths = encode_texts(self.vocab, texts, self.max_length, self.truncate)
        chunks = [self.net(tokens[i : i + 512], lengths[i : i + 512]) for i in range(0, len(tokens), 512)]
        return torch.cat(chunks).softmax(-1).numpy()

    def predict_proba(self, texts: list[str], model: str = "best"):
        """Class probabilities ``(N, C)``: the validated blend (``best``), the ``network`` alone or the ``n-grams``."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        return blended_proba(self.network_proba, self.linear, self.blend, texts, model)

    def predict(self, texts: list[str], model: str = "best") -> list[str]:
        return [self.classes[i] for i in self.predict_proba(texts, model).argmax(axis=1)]

    @property
    def description(self) -> str:
        """What the model is, for the tables: ``bilstm + n-grams (0.6)``."""
        name = ("bi" if self.config.bidirectional else "") + self.config.cell
        if self.linear is None or self.blend >= 1:
            return name
        return "n-grams (tf-idf LR)" if self.blend == 0 else f"{name} + n-grams (weight {self.blend:.1f})"

    @torch.no_grad()
    def prefix_probabilities(self, text: str) -> tuple[list[str], np.ndarray]:
        """The words of ``text`` and the class probabilities after each prefix ``(T, C)``: how the prediction
        evolves along the sentence ("not" flipping "good")."""
        from rnnlab.data.text import word_tokens

        words = word_tokens(text)[: self.max_length] or ["<unk>"]
        prefixes = [" ".join(words[: t + 1]) for t in range(len(words))]
        return words, self.predict_proba(prefixes)

    def metadata(self) -> dict:
        meta = {"task": "classify", "model": {"vocab_size": len(self.vocab), "classes": self.classes,
                **self.config.__dict__}, "vocab": self.vocab.to_json(),
                "text": {"max_length": self.max_length, "truncate": self.truncate, "blend": self.blend,
                         "columns": self.columns, "pretraining": getattr(self, "pretraining", None)}}  # fmt: skip
        if self.linear is not None:
            meta["linear"] = self.linear.metadata()
        return meta

    def save(self, path) -> None:
        from rnnlab.checkpoint import save_checkpoint, with_prefix

        tensors = with_prefix("model", self.net.state_dict())
        if self.linear is not None:
            tensors |= with_prefix("linear", self.linear.tensors())
        save_checkpoint(path, tensors, self.metadata())

    @classmethod
    def load(cls, path) -> TextClassifier:
        """A classifier from the ``best.safetensors`` of its run (weights, config and vocabulary; no pickle)."""
        from rnnlab.checkpoint import load_checkpoint, load_error, strip_prefix
        from rnnlab.data.text import Vocabulary
        from rnnlab.errors import RnnlabError

        tensors, meta = load_checkpoint(path, task="classify")
        if "vocab" not in meta:
            raise RnnlabError(f"{path} is a classifier of numeric sequences, not of texts; give it numeric "
                              "sequences (classify evaluate --sequences FILE)")  # fmt: skip
        try:
            model = dict(meta["model"])
            vocab_size, classes = model.pop("vocab_size"), model.pop("classes")
            config = ClassifierConfig(**model)
            net = SequenceClassifierNet(config, classes=len(classes), vocab_size=vocab_size)
            net.load_state_dict(strip_prefix("model", tensors))
            text = meta.get("text", {})
            linear = NGramModel.restore(meta["linear"], strip_prefix("linear", tensors)) if "linear" in meta else None
        except (KeyError, TypeError, RuntimeError, ValueError) as exc:
            raise RnnlabError(f"{path} does not hold a usable text classifier: {load_error(exc)}") from exc
        net.eval()
        return cls(config, vocab=Vocabulary.from_json(meta["vocab"]), classes=classes, net=net, linear=linear,
                   blend=text.get("blend", 1.0), max_length=text.get("max_length", 200),
                   truncate=text.get("truncate", "head"), columns=text.get("columns"))  # fmt: skip


def _texts_and_labels(texts, labels, text: str, label: str) -> tuple[list[str], list[str]]:
    """Lists of texts and labels from lists, a DataFrame (``text``/``label`` columns) or a CSV path."""
    import pandas as pd

    from rnnlab.errors import RnnlabError

    if isinstance(texts, (str, bytes)) and labels is None:
        from rnnlab.data.labelled import read_labelled_table

        examples = read_labelled_table(texts, text=text, label=label)
        return examples.texts, examples.labels
    if isinstance(texts, pd.DataFrame):
        missing = [c for c in (text, label) if c not in texts.columns]
        if missing:
            columns = ", ".join(map(str, texts.columns))
            raise RnnlabError(f"no column {missing[0]!r} in the DataFrame; columns: {columns} (fit(frame, text=..., "
                              "label=...))")  # fmt: skip
        return [str(t) for t in texts[text]], [str(v) for v in texts[label]]
    if labels is None:
        raise RnnlabError("fit takes texts and their labels: fit(texts, labels), or a table: fit(frame, text=..., "
                          "label=...)")  # fmt: skip
    texts, labels = [str(t) for t in texts], [str(v) for v in labels]
    if len(texts) != len(labels):
        raise RnnlabError(f"{len(texts)} texts but {len(labels)} labels; give one label per text")
    return texts, labels


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
    """Several text networks trained from different seeds; their probabilities are averaged, then blended with the
    n-gram model kept by the first member."""

    members: list[TextClassifier]

    @property
    def classes(self) -> list[str]:
        return self.members[0].classes

    @property
    def description(self) -> str:
        first = self.members[0]
        name = f"{'bi' if first.config.bidirectional else ''}{first.config.cell} ×{len(self.members)}"
        if first.linear is None or first.blend >= 1:
            return name
        return "n-grams (tf-idf LR)" if first.blend == 0 else f"{name} + n-grams (weight {first.blend:.1f})"

    def network_proba(self, texts: list[str]) -> np.ndarray:
        return np.mean([m.network_proba(texts) for m in self.members], axis=0)

    def predict_proba(self, texts: list[str], model: str = "best") -> np.ndarray:
        first = self.members[0]
        return blended_proba(self.network_proba, first.linear, first.blend, texts, model)

    def predict(self, texts: list[str], model: str = "best") -> list[str]:
        return [self.classes[i] for i in self.predict_proba(texts, model).argmax(axis=1)]

    def prefix_probabilities(self, text: str) -> tuple[list[str], np.ndarray]:
        words, _ = self.members[0].prefix_probabilities(text)
        prefixes = [" ".join(words[: t + 1]) for t in range(len(words))]
        return words, self.predict_proba(prefixes)

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
