"""Reading text with clear encoding errors, tokenisers, and the vocabulary (on the shared corpora when present)."""

from __future__ import annotations

import pytest

from rnnlab.data.text import PAD, UNK, Vocabulary, char_tokens, read_text, read_text_files, word_tokens
from rnnlab.errors import RnnlabError


def test_latin1_bytes_are_reported_with_their_offset_and_decoded_when_asked(tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_bytes(b"a film\nso bad it's good: caf\xe9 noir\n")
    with pytest.raises(RnnlabError, match=r"reviews\.txt is not valid utf-8: byte 0xe9 at byte offset 28 \(pass"):
        read_text(path)
    assert read_text(path, encoding="latin-1").endswith("café noir\n")


def test_binary_empty_missing_and_folder_inputs(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"PK\x03\x04\x00\x00data")
    with pytest.raises(RnnlabError, match=r"looks binary \(a NUL byte at byte offset 4\)"):
        read_text(tmp_path / "model.bin")
    (tmp_path / "empty.txt").write_text("  \n")
    with pytest.raises(RnnlabError, match=r"empty\.txt is empty"):
        read_text(tmp_path / "empty.txt")
    with pytest.raises(RnnlabError, match="file not found"):
        read_text(tmp_path / "nope.txt")
    (tmp_path / "ok.txt").write_text("text")
    with pytest.raises(RnnlabError, match="unknown encoding 'klingon'"):
        read_text(tmp_path / "ok.txt", encoding="klingon")


def test_a_folder_of_text_files_is_read_in_name_order(tmp_path):
    (tmp_path / "b.txt").write_text("second")
    (tmp_path / "a.txt").write_text("first")
    assert read_text_files(tmp_path) == "first\n\nsecond"
    with pytest.raises(RnnlabError, match=r"no \*.md files"):
        read_text_files(tmp_path, pattern="*.md")


def test_word_tokens_split_punctuation_and_keep_contractions():
    assert word_tokens("Don't stop -- it's GOOD!") == ["don't", "stop", "-", "-", "it's", "good", "!"]
    assert word_tokens("Café, naïve.", lowercase=False) == ["Café", ",", "naïve", "."]
    assert char_tokens("ab\n") == ["a", "b", "\n"]


def test_vocabulary_orders_by_frequency_limits_size_and_maps_unknowns():
    vocab = Vocabulary.build([["b", "a", "b"], ["c", "a", "b"]], max_size=4)
    assert vocab.tokens == [PAD, UNK, "b", "a"]  # b ×3, a ×2; c left out by the size limit
    assert vocab.encode(["a", "c", "b"]) == [3, 1, 2]
    assert vocab.decode([2, 3]) == ["b", "a"]
    assert Vocabulary.from_json(vocab.to_json()) == vocab


def test_a_vocabulary_without_unknown_token_names_what_is_missing():
    vocab = Vocabulary.build([list("hello")], specials=(), unknown=None)
    assert vocab.tokens == ["l", "e", "h", "o"]
    with pytest.raises(RnnlabError, match=r"2 token\(s\) not in the vocabulary: 'Z', 'x'"):
        vocab.encode(["h", "e", "x", "Z"])


def test_bad_vocabulary_arguments():
    with pytest.raises(ValueError, match="max_size"):
        Vocabulary.build([["a"]], max_size=2)
    with pytest.raises(ValueError, match="twice"):
        Vocabulary(["a", "a"], unknown=None)


def test_tinyshakespeare_has_65_characters(shared_data):
    text = read_text(shared_data / "tinyshakespeare.txt")
    assert len(text) == 1_115_394
    assert len(Vocabulary.build([char_tokens(text)], specials=(), unknown=None)) == 65


def test_sentence_polarity_files_decode_and_tokenise(shared_data):
    lines = (
        read_text(shared_data / "rt-polarity.pos").splitlines()
        + read_text(shared_data / "rt-polarity.neg").splitlines()
    )
    assert len(lines) == 10_662
    vocab = Vocabulary.build(map(word_tokens, lines), max_size=10_000)
    assert len(vocab) == 10_000 and vocab.tokens[:4] == [PAD, UNK, ".", "the"]
