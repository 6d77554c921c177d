"""Recurrent building blocks: the gate math, cells, layers and initialisers."""

from rnnlab.nn.cells import GRUCell, LSTMCell, RNNCell
from rnnlab.nn.layers import GRU, LSTM, RNN
from rnnlab.nn.loop import Trace

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNCell", "Trace"]
