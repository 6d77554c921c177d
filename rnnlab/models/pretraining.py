"""Pretraining a text classifier's encoder as a language model on the user's own texts (ULMFiT, Howard & Ruder 2018,
in small).

1. A word-level LSTM language model (:class:`~rnnlab.models.language_model.LanguageModel`, the ``text`` task's model)
   reads all the texts at hand (the training texts and any unlabelled ones) with the classifier's vocabulary,
   embedding size and hidden size, for a few passes (stateful truncated BPTT, the rnnlab fit loop); its validation
   perplexity is reported.
2. Its embedding and its first LSTM layer become the classifier's embedding and the *forward* direction of its first
   layer (the backward direction starts afresh).
3. Fine-tuning uses discriminative learning rates (embedding ``lr / 2.6²``, recurrent layers ``lr / 2.6``, pooling
   head ``lr``) and gradual unfreezing (the first epoch trains the head alone): the general knowledge of the language
   model is changed more slowly than the task-specific head.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from rnnlab.data.corpus import Corpus
from rnnlab.data.text import Vocabulary, word_tokens
from rnnlab.errors import RnnlabError
from rnnlab.models.language_model import LanguageModel, LanguageModelConfig, LanguageModelTask
from rnnlab.train import TrainConfig, fit

FACTOR = 2.6  # ULMFiT's ratio between the learning rates of consecutive layer groups


@dataclass
class PretrainResult:
    perplexity: float  # of the language model on the held-out end of the texts
    tokens: int  # training tokens it read
    seconds: float


def pretrain_encoder(net: nn.Module, vocab: Vocabulary, texts: list[str], *, run_dir: str | Path, epochs: int = 2,
                     max_seconds: float = 0.0, seed: int = 0, log=print) -> PretrainResult:  # fmt: skip
    """Train a language model on ``texts`` and copy its embedding and first LSTM layer into ``net`` (a
    :class:`~rnnlab.models.classifier.SequenceClassifierNet` for texts)."""
    ids = [vocab.encode(word_tokens(t)) for t in texts]
    stream = torch.tensor([i for sequence in ids for i in sequence], dtype=torch.long)  # texts one after another
    if len(stream) < 2_000:
        raise RnnlabError(f"{len(stream)} words are too few to pretrain a language model on (needs 2,000)")
    cut = int(0.95 * len(stream))
    corpus = Corpus(vocab, "word", stream[:cut], stream[cut:], "the texts")
    config = net.config
    lm = LanguageModel(LanguageModelConfig(vocab_size=len(vocab), cell=config.cell, embedding_dim=config.embedding_dim,
                                           hidden_size=config.hidden_size, num_layers=1, dropout=0.1))  # fmt: skip
    task = LanguageModelTask(corpus, batch_size=32, bptt=64, eval_streams=16)
    train = TrainConfig(epochs=epochs, patience=epochs, lr=3e-3, seed=seed, progress=False, max_seconds=max_seconds)
    log(f"pretraining a language model on {len(stream):,} words ({len(vocab):,}-word vocabulary)")
    result = fit(lm, task, train, Path(run_dir) / "language-model", metadata={"task": "text-pretraining",
                 "model": lm.config.to_dict()}, log=log)  # fmt: skip
    perplexity = math.exp(result.best.get("val_loss", float("nan")))
    with torch.no_grad():
        net.embedding.weight.copy_(lm.embedding.weight)
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            getattr(net.rnn, name).copy_(getattr(lm.rnn, name))
    log(f"language model: validation perplexity {perplexity:.1f}; its embedding and LSTM start the classifier")
    return PretrainResult(perplexity, cut, result.seconds)


def fine_tuning_groups(net: nn.Module) -> list[dict]:
    """Parameter groups with ULMFiT's discriminative learning rates: head, recurrent layers, embedding."""
    embedding = list(net.embedding.parameters())
    recurrent = list(net.rnn.parameters())
    known = {id(p) for p in embedding + recurrent}
    head = [p for p in net.parameters() if id(p) not in known]
    return [{"params": head, "lr_scale": 1.0}, {"params": recurrent, "lr_scale": 1 / FACTOR},
            {"params": embedding, "lr_scale": 1 / FACTOR**2}]  # fmt: skip


def gradual_unfreezing(net: nn.Module, epoch: int) -> None:
    """The first epoch trains the head alone; from the second everything trains."""
    for parameter in [*net.embedding.parameters(), *net.rnn.parameters()]:
        parameter.requires_grad_(epoch > 1)
