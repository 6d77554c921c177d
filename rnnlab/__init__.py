"""rnnlab: recurrent neural networks (RNN, LSTM, GRU, MinGRU, MinLSTM) that you can see inside.

The layers and cells load at once; the task models (``Forecaster``, ``TextClassifier``, ``SequenceClassifier``,
``LanguageModel``, ``Translator``, ...) on first use, so ``import rnnlab`` stays quick.
"""

from importlib import import_module
from typing import Any

from rnnlab.nn import GRU, LSTM, RNN, GRUCell, LSTMCell, MinGRU, MinLSTM, RNNCell, Trace
from rnnlab.summary import count_parameters, summary

__version__ = "0.2.0"

_LAZY = {
    "Forecaster": "rnnlab.models.forecaster",
    "ForecastConfig": "rnnlab.models.forecaster",
    "GlobalForecaster": "rnnlab.models.global_forecaster",
    "TextClassifier": "rnnlab.models.classifier",
    "SequenceClassifier": "rnnlab.models.classifier",
    "LanguageModel": "rnnlab.models.language_model",
    "Translator": "rnnlab.models.translator",
    "AnomalyDetector": "rnnlab.models.detector",
    "Recommender": "rnnlab.models.recommender",
    "Tagger": "rnnlab.models.tagger",
    "TrainConfig": "rnnlab.train",
    "load_dataset": "rnnlab.data.datasets",
    "tune_allocator": "rnnlab.runtime",
}

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "MinGRU",
    "MinLSTM",
    "GRUCell",
    "LSTMCell",
    "RNNCell",
    "Trace",
    "count_parameters",
    "summary",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rnnlab' has no attribute {name!r}")
