"""Sentence pairs: TSV reading with one-line errors, Unicode normalisation, the split that keeps sources together."""

from __future__ import annotations

import pytest

from rnnlab.data.generated_pairs import date_pairs, number_pairs
from rnnlab.data.pairs import Pair, normalize, read_pairs, split_by_source, tokenize_sentence
from rnnlab.errors import RnnlabError


def test_tsv_with_an_attribution_column(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org\n\nHi.\tSalut.\n", encoding="utf-8")
    assert read_pairs(path) == [Pair("Go.", "Va !"), Pair("Hi.", "Salut.")]


@pytest.mark.parametrize("content, message", [
    ("Go.\tVa !\nHi.\n", "line 2: one column; expected source<TAB>target"),
    ("Go.\tVa !\nHi.\t \tx\n", "line 2: the target is empty"),
    ("\tVa !\n", "line 1: the source is empty"),
])  # fmt: skip
def test_bad_lines_name_the_file_and_line(tmp_path, content, message):
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RnnlabError, match=message) as error:
        read_pairs(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_unicode_normalisation():
    decomposed = "e\u0301te\u0301"  # é as e + combining accent
    assert normalize(decomposed) == "\u00e9t\u00e9"
    assert normalize("Va\u202f!  ok\u00a0") == "Va ! ok"  # French narrow no-break space before '!'
    assert tokenize_sentence("J'ai faim, Tom !") == ["j'ai", "faim", ",", "tom", "!"]
    assert tokenize_sentence("Ab c", "char") == ["a", "b", " ", "c"]


def test_split_keeps_every_source_sentence_in_one_part():
    pairs = [Pair(f"sentence {i % 50}", f"phrase {i}") for i in range(200)]  # 4 translations per source
    train, val, test = split_by_source(pairs, test_fraction=0.1, val_fraction=0.1, seed=3)
    parts = [{p.source for p in part} for part in (train, val, test)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert len(parts[2]) == 5 and len(test) == 20 and len(train) + len(val) + len(test) == 200


def test_eng_fra_file(shared_data):
    pairs = read_pairs(shared_data / "eng-fra.tsv")
    assert len(pairs) == 5000 and pairs[0] == Pair("Go.", "Va !")
    train, _, test = split_by_source(pairs, test_fraction=0.1, val_fraction=0.1)
    assert not {p.source.lower() for p in train} & {p.source.lower() for p in test}


def test_generated_dates_are_right_and_varied():
    import datetime as dt

    pairs = date_pairs(400, seed=1)
    assert len({p.source for p in pairs}) == 400
    for pair in pairs:
        day = dt.date.fromisoformat(pair.target)
        assert str(day.year) in pair.source and str(day.day) in pair.source
    sources = " ".join(p.source for p in pairs)
    for word in ("janvier", "Januar", "enero", "January", "gennaio"):  # French, German, Spanish, English, Italian
        if word in sources:
            break
    else:
        pytest.fail("no month name from the usual languages")
    assert date_pairs(50, seed=1) == pairs[:50]


def test_generated_numbers_are_english_to_french():
    pairs = {p.source: p.target for p in number_pairs(3000, seed=0)}
    assert len(pairs) == 3000
    assert pairs["seventy-one"] == "soixante et onze" and pairs["eighty"] == "quatre-vingts"  # drawn: 2-digit ones
