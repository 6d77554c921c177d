"""Parameter counts in torch's and Keras' conventions, and the Keras-like summary table."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnlab import GRU, LSTM, RNN, count_parameters, summary


def test_simple_rnn_counts_130_here_and_120_in_keras_convention():
    layer = RNN(1, 10)
    assert count_parameters(layer) == 130  # 10·1 + 10·10 + 10 + 10
    assert count_parameters(layer, convention="keras") == 120  # Keras' SimpleRNN(10) on 1 feature


def test_lstm_and_gru_counts_and_the_three_quarters_ratio():
    assert count_parameters(LSTM(1, 10)) == 520
    assert count_parameters(LSTM(1, 10), convention="keras") == 480
    assert count_parameters(GRU(1, 10), convention="keras") == count_parameters(GRU(1, 10)) == 390
    for input_size, hidden, layers, bi in [(1, 10, 1, False), (32, 128, 2, True), (7, 3, 3, False)]:
        lstm = LSTM(input_size, hidden, num_layers=layers, bidirectional=bi)
        gru = GRU(input_size, hidden, num_layers=layers, bidirectional=bi)
        assert count_parameters(gru) * 4 == count_parameters(lstm) * 3


def test_counts_agree_with_torch_nn():
    for ours, theirs in [(LSTM(5, 7, num_layers=2), nn.LSTM(5, 7, num_layers=2)), (GRU(3, 4), nn.GRU(3, 4))]:
        assert count_parameters(ours) == sum(p.numel() for p in theirs.parameters())


def test_trainable_only_leaves_out_frozen_parameters():
    layer = LSTM(2, 4)
    layer.weight_ih_l0.requires_grad_(False)
    assert count_parameters(layer, trainable_only=True) == count_parameters(layer) - 4 * 4 * 2


def test_unknown_convention_is_rejected():
    with pytest.raises(ValueError, match="'tf'"):
        count_parameters(RNN(1, 2), convention="tf")


class Tagger(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 8)
        self.rnn = LSTM(8, 16, batch_first=True, bidirectional=True)
        self.head = nn.Linear(32, 3)

    def forward(self, tokens):
        out, _ = self.rnn(self.embed(tokens))
        return self.head(out)


def test_summary_lists_each_layer_with_shapes_and_counts():
    model = Tagger()
    text = summary(model, torch.zeros(2, 9, dtype=torch.long), print_fn=None)
    assert "embed (Embedding)" in text and "(2, 9, 8)" in text and "400" in text
    assert "rnn (LSTM)" in text and "(2, 9, 32)" in text and f"{count_parameters(model.rnn):,}" in text
    assert "head (Linear)" in text and "(2, 9, 3)" in text
    assert f"Total params: {count_parameters(model):,}" in text
    assert f"Keras keeps one bias in SimpleRNN and LSTM: {count_parameters(model, convention='keras'):,}" in text


def test_summary_without_input_shows_symbolic_shapes_and_prints(capsys):
    summary(RNN(1, 10))
    printed = capsys.readouterr().out
    assert "(T, B, 10)" in printed
    assert "Total params: 130" in printed
    assert "two bias vectors" in printed and "120 params there" in printed
