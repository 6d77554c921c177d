"""rnnlab: recurrent neural networks (RNN, LSTM, GRU) that you can see inside."""

from rnnlab.nn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell, Trace
from rnnlab.summary import count_parameters, summary

__version__ = "0.1.0"

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "GRUCell",
    "LSTMCell",
    "RNNCell",
    "Trace",
    "count_parameters",
    "summary",
]
