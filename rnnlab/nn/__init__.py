"""Recurrent building blocks: the gate math, cells, layers and initialisers."""

from rnnlab.nn.cells import GRUCell, LSTMCell, RNNCell
from rnnlab.nn.layers import GRU, LSTM, RNN
from rnnlab.nn.loop import Trace
from rnnlab.nn.minimal import MinGRU, MinLSTM

# every layer a task can be built with, by the name its --cell option takes
LAYERS = {"lstm": LSTM, "gru": GRU, "rnn": RNN, "mingru": MinGRU, "minlstm": MinLSTM}

__all__ = ["GRU", "LAYERS", "LSTM", "RNN", "GRUCell", "LSTMCell", "MinGRU", "MinLSTM", "RNNCell", "Trace"]
