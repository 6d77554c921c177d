"""The anomaly-detection jobs behind ``rnnlab anomaly train | score | watch | benchmark | datasets``.

``train`` learns normal behaviour from the first part of a series (``--normal``), scores every point, and writes into
the run folder ``best.safetensors`` (the nets and the calibrated threshold), ``scores.csv`` (value, score, smoothed
score, threshold, flag per point), ``report.html`` (the series with the flagged and labelled ranges, the score
against its threshold) and, when the data has labels, ``evaluation.json``: rnnlab beside the baselines.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from rnnlab.checkpoint import atomic_write_text, check_output, write_table
from rnnlab.data.anomalies import INJECTED, LabelledSeries, events, injected_suite, load_labelled
from rnnlab.data.series import SeriesSpec, prepare_series
from rnnlab.data.sources import DataOptions, load_data
from rnnlab.errors import RnnlabError
from rnnlab.metrics import average_precision, event_scores, point_scores, ucr_hit
from rnnlab.models.anomaly_baselines import BASELINES, baseline_scores
from rnnlab.models.detector import MIN_NORMAL, AnomalyDetector, DetectorConfig
from rnnlab.models.thresholds import flag_offline
from rnnlab.train import TrainConfig

LABELLED = ("yahoo", "mitdb", "ucr-135")
DEFAULT_NORMAL = 0.3  # of the points, when neither the data nor the user says how much is normal
UCR_MARGIN = 100


@dataclass
class AnomalyData:
    values: np.ndarray  # (N,)
    labels: np.ndarray | None  # (N,) 0/1, or None
    times: pd.DatetimeIndex | None
    normal_end: int  # the first normal_end points are normal: the detector learns from them
    source: str
    notes: list[str] = field(default_factory=list)


def normal_points(normal: float | None, length: int, default: int, source: str) -> int:
    """``--normal``: a count of points (≥ 1) or a share of them (< 1); None takes ``default``."""
    if normal is None:
        count = default
    elif normal < 1:
        count = int(length * normal)
    elif float(normal).is_integer():
        count = int(normal)
    else:
        raise RnnlabError(f"--normal takes a share below 1 (0.3) or a whole number of points (2000), got {normal}")
    if count > length:
        raise RnnlabError(f"--normal {count} is more than the {length} points of {source}")
    if count < MIN_NORMAL:
        raise RnnlabError(
            f"{source}: {count} points of normal data (--normal) is too little to learn from; the detector needs at "
            f"least {MIN_NORMAL} (a larger --normal, or a longer series)"
        )
    return count


def _check_labels(column: pd.Series, name: str, source: str) -> pd.Series:
    """0/1 (or booleans) and nothing else; the first offending value is named with its line."""
    numbers = column.astype(float) if pd.api.types.is_bool_dtype(column) else pd.to_numeric(column, errors="coerce")
    bad = ~numbers.isin([0.0, 1.0])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise RnnlabError(
            f"labels column '{name}' of {source} holds {str(column.iloc[row])!r} at line {row + 2}; labels must be 0 "
            "(normal) or 1 (anomalous)"
        )
    return numbers


def read_data(data: str, *, target: str | None = None, time: str | None = None, labels: str | None = None,
              normal: float | None = None, fill: str = "interpolate", encoding: str = "utf-8", training: bool = True,
              log=print) -> AnomalyData:  # fmt: skip
    """A labelled set by name (``yahoo``, ``mitdb``, ``ucr-135``: their own normal parts), or a CSV/Parquet file or
    built-in series, read and checked as forecasting reads it; ``labels`` names a 0/1 column.

    For ``training`` the normal part is ``normal`` (or a labelled set's own, or the first 30 %); for scoring it is
    ``normal`` or nothing (the whole file is scored against its labels)."""
    if data in LABELLED:
        series = load_labelled(data)
        default = series.train_end if training else 0
        count = normal_points(normal, len(series.values), default, data) if training or normal else 0
        return AnomalyData(series.values, series.labels, None, count, data)
    options = DataOptions(data, (target,) if target else (), time, (labels,) if labels else (), fill, encoding)
    frame, spec, source, _ = load_data(options, log)
    if len(spec.targets) != 1:
        raise RnnlabError(f"anomaly detection reads one column; got {', '.join(spec.targets)} (--target)")
    if labels and labels in frame.columns:
        frame = frame.assign(**{labels: _check_labels(frame[labels], labels, source)})
    series = prepare_series(frame, SeriesSpec(spec.targets, spec.time, spec.covariates, fill), source)
    for note in series.notes:
        log(f"note: {note}")
    values = series.targets[:, 0]
    marked = None
    if labels:  # rows added for gaps in the time index take their neighbours' label (both 1: anomalous)
        marked = (series.covariate_frame[labels].to_numpy(np.float64) >= 0.5).astype(int)
    if not training:
        count = normal_points(normal, len(values), 0, source) if normal else 0
        return AnomalyData(values, marked, series.times, count, source)
    count = normal_points(normal, len(values), int(len(values) * DEFAULT_NORMAL), source)
    if normal is None:
        log(f"note: learning normal behaviour from the first {count} points ({DEFAULT_NORMAL:.0%}); --normal to say "
            "how many are normal")  # fmt: skip
    if marked is not None and marked[:count].any():
        log(f"note: {int(marked[:count].sum())} points labelled anomalous fall inside the normal part and are "
            "learnt as normal; a smaller --normal keeps them out")  # fmt: skip
    return AnomalyData(values, marked, series.times, count, source)


# ----- evaluation ----------------------------------------------------------------------------------------------------
def evaluate_flags(labels: np.ndarray, flags: np.ndarray, smoothed: np.ndarray, tolerance: int) -> dict[str, float]:
    """Event-wise and point-wise scores, the threshold-free average precision, and the UCR hit for one event."""
    row = {f"event_{k}": v for k, v in event_scores(labels, flags, tolerance).items()}
    row |= {f"point_{k}": v for k, v in point_scores(labels, flags).items()}
    row["average_precision"] = average_precision(labels, smoothed)
    if len(events(labels)) == 1:
        row["ucr_hit"] = ucr_hit(labels, smoothed, UCR_MARGIN)
    return row


def compare(values: np.ndarray, labels: np.ndarray, detector: AnomalyDetector, table: pd.DataFrame, normal_end: int,
            tolerance: int, *, parts: bool = False) -> dict[str, dict[str, float]]:  # fmt: skip
    """rnnlab's scores (and with ``parts`` each of its scorers alone) beside the baselines, after the normal part;
    every baseline smoothed and thresholded as the detector is."""
    after = slice(normal_end, None)
    rows = {f"rnnlab ({detector.config.scorer})": evaluate_flags(
        labels[after], table["flag"].to_numpy()[after], table["smoothed"].to_numpy()[after], tolerance)}  # fmt: skip
    if parts and len(detector.scorers) > 1:
        for name in detector.scorers:
            part = detector.only(name, values[:normal_end]).score(values)
            rows[f"rnnlab ({name})"] = evaluate_flags(labels[after], part["flag"].to_numpy()[after],
                                                      part["smoothed"].to_numpy()[after], tolerance)  # fmt: skip
    config, fit_end = detector.config, int(normal_end * 0.8)
    for name in BASELINES:
        raw = baseline_scores(name, values, period=detector.period, fit_end=fit_end, normal_end=normal_end)
        smoothed, threshold = flag_offline(raw, fit_end=fit_end, normal_end=normal_end, span=config.span,
                                           quantile=config.quantile, dynamic=config.threshold == "dynamic")  # fmt: skip
        rows[name] = evaluate_flags(labels[after], (smoothed > threshold)[after], smoothed[after], tolerance)
    return rows


def format_comparison(rows: dict[str, dict[str, float]], title: str) -> str:
    header = f"{'':26}{'event P':>9}{'event R':>9}{'event F1':>9}{'point F1':>9}{'AP':>7}"
    hit = any("ucr_hit" in r for r in rows.values())
    lines = [title, header + ("  UCR hit" if hit else "")]
    for name, r in rows.items():
        line = (f"{name:26}{r['event_precision']:9.3f}{r['event_recall']:9.3f}{r['event_f1']:9.3f}"
                f"{r['point_f1']:9.3f}{r['average_precision']:7.3f}")  # fmt: skip
        lines.append(line + (f"  {'yes' if r.get('ucr_hit') else 'no':>7}" if hit else ""))
    return "\n".join(lines)


# ----- jobs ----------------------------------------------------------------------------------------------------------
def _scores_frame(table: pd.DataFrame, data: AnomalyData) -> pd.DataFrame:
    frame = table.reset_index().rename(columns={"index": "step"})
    frame["flag"] = frame["flag"].astype(int)
    if data.times is not None:
        frame.insert(1, "time", data.times[: len(frame)])
    if data.labels is not None:
        frame["label"] = data.labels[: len(frame)]
    return frame


def _flagged_ranges(flags: np.ndarray, data: AnomalyData, limit: int = 10) -> list[str]:
    runs = events(flags)
    where = (lambda i: str(data.times[i])) if data.times is not None else str
    lines = [f"{where(a)} … {where(b)} ({b - a + 1} points)" for a, b in runs[:limit]]
    return lines + ([f"… and {len(runs) - limit} more"] if len(runs) > limit else [])


def train_run(data: AnomalyData, config: DetectorConfig, train_config: TrainConfig, *, run_dir: str | Path,
              resume: bool = False, tolerance: int = 5, log=print) -> tuple[AnomalyDetector, pd.DataFrame]:  # fmt: skip
    """Train on the normal part, score the whole series, compare with the baselines when there are labels."""
    run_dir = Path(run_dir)
    started = time.perf_counter()
    log(f"{data.source}: {len(data.values)} points; normal part: the first {data.normal_end}")
    detector = AnomalyDetector(config, train_config).fit(
        data.values, normal_end=data.normal_end, run_dir=run_dir, resume=resume, log=log, source=data.source
    )
    table = detector.score(data.values)
    frame = _scores_frame(table, data)
    write_table(frame, run_dir / "scores.csv", "scores", log)
    flags = table["flag"].to_numpy()
    after = flags[data.normal_end :]
    log(f"flagged {int(after.sum())} points in {len(events(after))} runs after the normal part "
        f"({time.perf_counter() - started:.0f} s)")  # fmt: skip
    rows = None
    if data.labels is not None and data.labels[data.normal_end :].any():
        rows = compare(data.values, data.labels, detector, table, data.normal_end, tolerance, parts=True)
        log(format_comparison(rows, f"after the normal part (event tolerance ±{tolerance} points):"))
        atomic_write_text(run_dir / "evaluation.json", json.dumps(rows, indent=2) + "\n")
    _write_report(run_dir / "report.html", data, detector, table, rows)
    log(f"wrote {run_dir / 'best.safetensors'}, scores.csv and report.html")
    return detector, frame


def _write_report(path: Path, data: AnomalyData, detector: AnomalyDetector, table: pd.DataFrame,
                  rows: dict | None) -> None:  # fmt: skip
    from rnnlab.inspection.plots import anomaly_plot, figure_png
    from rnnlab.inspection.report import Report

    report = Report(f"anomaly: {data.source}, {detector.config.scorer}", config={
        "detector": asdict(detector.config), "normal_end": data.normal_end, "period": detector.period,
        "window": detector.window, "threshold floor": detector.state["floor"]})  # fmt: skip
    if rows:
        header = ["", "event precision", "event recall", "event F1", "point F1", "average precision"]
        body = [[name, r["event_precision"], r["event_recall"], r["event_f1"], r["point_f1"], r["average_precision"]]
                for name, r in rows.items()]  # fmt: skip
        report.table("rnnlab beside the baselines, after the normal part", header, body,
                     {i for i, name in enumerate(rows) if name.startswith("rnnlab")})  # fmt: skip
    figure = anomaly_plot(data.values, table["smoothed"].to_numpy(), table["threshold"].to_numpy(),
                          table["flag"].to_numpy(), data.labels, data.normal_end, title=data.source)  # fmt: skip
    report.figure("the series, the flagged and labelled ranges; the score against its threshold", figure_png(figure))
    report.text("flagged ranges after the normal part", "\n".join(
        _flagged_ranges(np.concatenate([np.zeros(data.normal_end, int), table["flag"].to_numpy()[data.normal_end:]]),
                        data)) or "none")  # fmt: skip
    report.write(path)


def _checkpoint_file(checkpoint: str | Path) -> Path:
    path = Path(checkpoint)
    return path / "best.safetensors" if path.is_dir() else path


def score_run(checkpoint: str | Path, data: AnomalyData, *, output: str | Path | None, tolerance: int = 5,
              log=print) -> pd.DataFrame:  # fmt: skip
    """Score every point of ``data`` with a trained detector; a CSV of scores and flags (stdout without ``output``)."""
    check_output(output, data.source)
    detector = AnomalyDetector.load(_checkpoint_file(checkpoint))
    table = detector.score(data.values)
    frame = _scores_frame(table, data)
    after = slice(data.normal_end, None)
    flags = table["flag"].to_numpy()[after]
    log(f"flagged {int(flags.sum())} of {len(flags)} points, in {len(events(flags))} runs")
    if data.labels is not None and data.labels[after].any():
        row = evaluate_flags(data.labels[after], flags, table["smoothed"].to_numpy()[after], tolerance)
        log(f"against the labels: event F1 {row['event_f1']:.3f} (precision {row['event_precision']:.3f}, recall "
            f"{row['event_recall']:.3f}), point F1 {row['point_f1']:.3f}")  # fmt: skip
    if output:
        write_table(frame, output, "scores", log)
    else:  # the table is the output: on stdout, as CSV
        sys.stdout.write(frame.to_csv(index=False))
    return frame


def watch_run(checkpoint: str | Path, source: IO[str], *, on_bad_line: str = "stop", every_point: bool = False,
              out: IO[str] | None = None, err: IO[str] | None = None) -> int:  # fmt: skip
    """Read values as they come (one a line; of ``time,value`` lines the last field) and print an alert line for
    each flagged point as soon as its score is final. Returns the number of alerts.

    A line that is not a number is reported with its line number; ``on_bad_line`` says whether the stream stops
    (``stop``, an error) or goes on without it (``skip``, a warning on ``err``)."""
    out, err = out or sys.stdout, err or sys.stderr
    detector = AnomalyDetector.load(_checkpoint_file(checkpoint))
    stream = detector.stream()
    lines: list[int] = []  # the line of each value pushed, by point index
    alerts, started = 0, time.perf_counter()
    if every_point:
        print("step,line,value,score,smoothed,threshold,flag", file=out)

    def emit(points) -> None:
        nonlocal alerts
        for p in points:
            if every_point:
                print(f"{p.index},{lines[p.index]},{p.value:g},{p.score:.6g},{p.smoothed:.6g},{p.threshold:.6g},"
                      f"{int(p.flag)}", file=out)  # fmt: skip
            elif p.flag:
                print(f"alert: point {p.index} (line {lines[p.index]}) value {p.value:g}: score {p.smoothed:.4g} "
                      f"> threshold {p.threshold:.4g}", file=out, flush=True)  # fmt: skip
            alerts += bool(p.flag)

    for number, line in enumerate(source, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        field_text = text.rsplit(",", 1)[-1].strip()
        try:
            value = float(field_text)
            if not np.isfinite(value):
                raise ValueError
        except ValueError:
            message = f"line {number}: {text[:60]!r} is not a number"
            if on_bad_line == "stop":
                raise RnnlabError(f"{message}; stopped (--on-bad-line skip goes on without such lines)") from None
            print(f"rnnlab: warning: {message}; skipped", file=err)
            continue
        lines.append(number)
        emit(stream.push(value))
    emit(stream.flush())
    seconds = time.perf_counter() - started
    print(f"watched {len(lines)} points, {alerts} alerts, {len(lines) / max(seconds, 1e-9):,.0f} points/s", file=err)
    return alerts


def datasets_table() -> str:
    lines = ["labelled sets (real; --data NAME):"]
    for name in LABELLED:
        try:
            series = load_labelled(name)
            count, points = len(events(series.labels)), int(series.labels.sum())
            lines.append(f"  {name:10} {len(series.values):6} points, normal part {series.train_end}, "
                         f"{count} labelled anomalies ({points} points)")  # fmt: skip
        except RnnlabError as exc:
            lines.append(f"  {name:10} unavailable: {exc}")
    lines.append("injected benchmark (rnnlab anomaly benchmark): anomalies planted into real series")
    for entry in INJECTED:
        lines.append(f"  {entry.name:14} normal part {entry.start:5}, {entry.count:3} anomalies: {entry.description}")
    return "\n".join(lines)


def benchmark_run(suite: str = "all", *, seed: int = 0, tolerance: int = 5, output: str | Path | None = None,
                  log=print) -> dict[str, dict[str, dict[str, float]]]:  # fmt: skip
    """Default detectors on the injected benchmark and the labelled sets, beside the baselines.

    Injected: event-wise F1 per series and pooled over all events (events found and false alarms summed).
    Labelled: per set, with the UCR hit where a set has one anomaly."""
    check_output(output)
    sets: list[tuple[str, LabelledSeries]] = []
    if suite in ("injected", "all"):
        sets += [("injected", s) for s in injected_suite(seed)]
    if suite in ("labelled", "all"):
        sets += [("labelled", load_labelled(name)) for name in LABELLED]
    if not sets:
        raise RnnlabError(f"no suite {suite!r}; suites: injected, labelled, all")
    results: dict[str, dict[str, dict[str, float]]] = {}
    started = time.perf_counter()
    for kind, series in sets:
        with tempfile.TemporaryDirectory(prefix="rnnlab-anomaly-") as folder:
            detector = AnomalyDetector(scorer="combined")  # its parts are scored alone too
            detector.fit(series.values, normal_end=series.train_end, run_dir=folder, log=lambda m: None,
                         source=series.name)  # fmt: skip
            table = detector.score(series.values)
            rows = compare(series.values, series.labels, detector, table, series.train_end, tolerance, parts=True)
        results[f"{kind}/{series.name}"] = rows
        best = max(rows, key=lambda k: rows[k]["event_f1"])
        log(f"{series.name}: {len(events(series.labels[series.train_end:]))} events; best event F1 "
            f"{rows[best]['event_f1']:.3f} ({best}); {time.perf_counter() - started:.0f} s")  # fmt: skip
    log(format_benchmark(results))
    if output:
        atomic_write_text(output, json.dumps(results, indent=2) + "\n")
    return results


def format_benchmark(results: dict[str, dict[str, dict[str, float]]]) -> str:
    """Event F1 per series and method; injected: also pooled over every event; labelled: the UCR hit (✓/✗) of
    each set with a single anomaly beside its F1."""
    names = list(next(iter(results.values())))
    parts = []
    for kind in ("injected", "labelled"):
        keys = [k for k in results if k.startswith(kind + "/")]
        if not keys:
            continue
        columns = [k.split("/", 1)[1] for k in keys]
        header = f"{'event F1':26}" + "".join(f"{c[:13]:>14}" for c in columns)
        header += f"{'pooled':>9}" if kind == "injected" else ""
        title = "anomalies planted into real series" if kind == "injected" else "real labels (✓/✗: the UCR hit)"
        lines = [f"{kind}: {title}", header]
        for name in names:
            cells = [results[k][name] for k in keys]
            line = f"{name:26}"
            for cell in cells:
                mark = "" if "ucr_hit" not in cell else " ✓" if cell["ucr_hit"] else " ✗"
                line += f"{cell['event_f1']:.3f}{mark}".rjust(14)
            if kind == "injected":
                found = sum(c["event_found"] for c in cells)
                alarms = sum(c["event_false_alarms"] for c in cells)
                total = sum(c["event_events"] for c in cells)
                precision, recall = found / max(found + alarms, 1), found / max(total, 1)
                line += f"{2 * precision * recall / max(precision + recall, 1e-12):9.3f}"
            lines.append(line)
        if kind == "injected":
            total = sum(results[k][names[0]]["event_events"] for k in keys)
            lines.append(f"({total} events over {len(keys)} series; pooled: events found and false alarms summed)")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)
