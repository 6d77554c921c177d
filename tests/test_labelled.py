"""Labelled texts: tables and per-class files, with one-line errors for the usual mistakes."""

from __future__ import annotations

import pandas as pd
import pytest

from rnnlab.data.labelled import read_class_files, read_labelled_table
from rnnlab.errors import RnnlabError


def test_a_table_with_text_and_label_columns(tmp_path):
    pd.DataFrame({"review": ["good film", "bad film", "fine"], "stars": ["pos", "neg", "pos"]}).to_csv(
        tmp_path / "r.csv", index=False
    )
    data = read_labelled_table(tmp_path / "r.csv", text="review", label="stars")
    assert data.texts == ["good film", "bad film", "fine"] and data.classes == ["neg", "pos"]


def test_missing_columns_empty_texts_empty_labels_and_single_class(tmp_path):
    pd.DataFrame({"review": ["a", "b"], "stars": ["x", "y"]}).to_csv(tmp_path / "r.csv", index=False)
    with pytest.raises(RnnlabError, match=r"column 'label' not found in .*; columns are: review, stars"):
        read_labelled_table(tmp_path / "r.csv", text="review")
    pd.DataFrame({"text": ["a", "", "c"], "label": ["x", "y", "x"]}).to_csv(tmp_path / "e.csv", index=False)
    with pytest.raises(RnnlabError, match=r"1 empty texts \(line 3\)"):
        read_labelled_table(tmp_path / "e.csv")
    pd.DataFrame({"text": ["a", "b"], "label": ["x", None]}).to_csv(tmp_path / "n.csv", index=False)
    with pytest.raises(RnnlabError, match=r"1 empty labels \(first at line 3\)"):
        read_labelled_table(tmp_path / "n.csv")
    pd.DataFrame({"text": ["a", "b"], "label": ["x", "x"]}).to_csv(tmp_path / "s.csv", index=False)
    with pytest.raises(RnnlabError, match=r"a single class \('x'\)"):
        read_labelled_table(tmp_path / "s.csv")


def test_one_file_per_class_with_an_explicit_encoding(tmp_path):
    (tmp_path / "pos").write_bytes(b"caf\xe9 is great\n\nloved it\n")
    (tmp_path / "neg").write_text("dull\n")
    with pytest.raises(RnnlabError, match="byte 0xe9 at byte offset 3"):
        read_class_files({"pos": tmp_path / "pos", "neg": tmp_path / "neg"})
    data = read_class_files({"pos": tmp_path / "pos", "neg": tmp_path / "neg"}, encoding="latin-1")
    assert data.texts == ["café is great", "loved it", "dull"] and data.labels == ["pos", "pos", "neg"]


def test_sentence_polarity_reads_as_two_balanced_classes(shared_data):
    data = read_class_files({"pos": shared_data / "rt-polarity.pos", "neg": shared_data / "rt-polarity.neg"})
    assert len(data) == 10_662 and data.labels.count("pos") == data.labels.count("neg") == 5_331
