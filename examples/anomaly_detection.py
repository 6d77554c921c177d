# %% [markdown]
# # Anomaly detection: a network that learnt what normal looks like flags what it cannot reconstruct
#
# An LSTM encoder-decoder reconstructs windows of a series; a point's score is its smallest reconstruction error over
# the windows that cover it, smoothed, and flagged above a threshold learnt on the normal part. The series is a real
# one (half-hourly electricity demand) with anomalies planted by a seeded injector, so we know where they are.

# %%
from _shared import SMALL, run_dir, save

from rnnlab import AnomalyDetector, TrainConfig
from rnnlab.data.anomalies import injected_suite
from rnnlab.inspection.plots import anomaly_plot
from rnnlab.metrics import event_scores

series = injected_suite(names=("electricity",))[0]
values, labels = series.values, series.labels
training = TrainConfig(epochs=2, progress=False) if SMALL else None  # None: the defaults
detector = AnomalyDetector(train_config=training).fit(values, normal_end=series.train_end, run_dir=run_dir("anomaly"),
                                          log=lambda *_: None)  # fmt: skip
table = detector.score(values)
flags = table["flag"].to_numpy()[series.train_end :]
scores = event_scores(labels[series.train_end :], flags, tolerance=10)
print({k: round(v, 3) for k, v in scores.items()})
figure = anomaly_plot(values, table["smoothed"].to_numpy(), table["threshold"].to_numpy(), table["flag"].to_numpy(),
                      labels, series.train_end, title="electricity demand: planted anomalies and flags")  # fmt: skip
save(figure, "anomalies.png")
