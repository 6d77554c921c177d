"""Language-model data: tokens, the split at the end, contiguous stateful batches, every validation token once."""

from __future__ import annotations

import pytest
import torch

from rnnlab.data.corpus import Corpus, detokenize, evaluation_batches, tokenize, training_batches
from rnnlab.errors import RnnlabError

TEXT = "ROMEO:\nBut, soft! what light through yonder window breaks?\nIt is the east, and Juliet is the sun.\n" * 3


def test_char_corpus_splits_at_the_end_and_has_no_unknown_token():
    corpus = Corpus.from_text(TEXT, level="char", val_fraction=0.1, source="t")
    ids = torch.cat([corpus.train, corpus.val])
    assert "".join(corpus.vocab.decode(ids.tolist())) == TEXT
    assert len(corpus.val) == int(len(TEXT) * 0.1)
    assert corpus.vocab.unknown is None and sorted(corpus.vocab.tokens) == sorted(set(TEXT))


def test_word_tokens_keep_line_breaks_and_case_and_join_back():
    tokens = tokenize("ROMEO:\nBut, soft! what (light)?", "word")
    assert tokens == ["ROMEO", ":", "\n", "But", ",", "soft", "!", "what", "(", "light", ")", "?"]
    assert detokenize(tokens, "word") == "ROMEO:\nBut, soft! what (light)?"


def test_word_vocabulary_limit_maps_the_rest_to_unk():
    corpus = Corpus.from_text(TEXT * 2, level="word", max_vocab=10, source="t")
    assert len(corpus.vocab) == 10 and corpus.vocab.tokens[0] == "<unk>"
    assert (corpus.train == 0).any()  # some words became <unk>


def test_training_batches_are_contiguous_streams():
    ids = torch.arange(1000)
    batches = training_batches(ids, batch_size=4, bptt=10, offset=3)
    first, second = batches[0], batches[1]
    assert first[0].shape == (4, 10)
    assert torch.equal(first[1], first[0] + 1)  # targets are the next tokens
    assert torch.equal(second[0][:, 0], first[0][:, -1] + 1)  # row b of batch k+1 continues row b of batch k
    assert int(first[0][0, 0]) == 3  # the offset moves the boundaries


def test_evaluation_batches_score_every_token_exactly_once():
    ids = torch.randint(0, 50, (1037,))
    targets, pairs = [], []
    for inputs, target in evaluation_batches(ids, streams=8, bptt=16):
        keep = target >= 0
        targets.append(target[keep])
        pairs.append((inputs[keep], target[keep]))
    streams = torch.cat([torch.stack(p) for p in pairs], dim=1)
    assert sum(len(t) for t in targets) == len(ids) - 1
    # every (input, next token) pair of the text appears once
    expected = sorted(zip(ids[:-1].tolist(), ids[1:].tolist(), strict=True))
    assert sorted(zip(streams[0].tolist(), streams[1].tolist(), strict=True)) == expected


def test_too_short_text_and_bad_level_are_refused():
    with pytest.raises(RnnlabError, match="at least 100"):
        Corpus.from_text("tiny", source="tiny.txt")
    with pytest.raises(ValueError, match="'char' or 'word'"):
        tokenize("x", "bytes")
