"""One readable fit loop for every task: Adam/AdamW, clipping, truncated BPTT, early stopping, LR on plateau, resume.

A task hands the loop a :class:`TrainingTask`: the batches of an epoch (in a fixed order for a given epoch and seed,
so that a resumed run skips exactly the batches it had done), the loss of one batch, and an evaluation on held-out
data. The loop does the rest:

- ``run_dir/last.safetensors``: everything needed to resume (weights, optimizer, scheduler, RNG, position), saved at
  the end of each epoch and every ``checkpoint_seconds`` within one;
- ``run_dir/best.safetensors``: the weights with the best validation score so far, and the task's metadata;
- ``run_dir/metrics.jsonl``: one JSON line per log line; the same line is printed.

Truncated BPTT: ``loss(model, batch, state)`` may return a recurrent state; the loop detaches it and hands it to the
next batch of the epoch, so gradients stop at the batch boundary while the state flows on (stateful char-rnn
training). Forecasting windows return ``None`` and start from zeros.

A non-finite loss stops the run with a one-line error; the checkpoints on disk are the last good ones.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import Tensor, nn

from rnnlab.checkpoint import (
    load_checkpoint,
    optimizer_from_checkpoint,
    optimizer_to_checkpoint,
    run_lock,
    save_checkpoint,
    strip_prefix,
    with_prefix,
)
from rnnlab.distributed import all_sum, barrier, rank_and_world, shard
from rnnlab.errors import RnnlabError


@dataclass(frozen=True)
class TrainConfig:
    """How to train; every task uses these fields, with its own defaults."""

    epochs: int = 50  # passes over the training batches, at most
    lr: float = 2e-3  # initial learning rate
    optimizer: str = "adam"  # 'adam' or 'adamw'
    weight_decay: float = 0.0  # L2 (adam) or decoupled (adamw) weight decay
    clip_norm: float = 1.0  # clip the gradient's global norm to this; 0 disables
    patience: int = 8  # stop after this many epochs without a better validation score
    lr_patience: int = 3  # halve (lr_factor) the learning rate after this many epochs without improvement
    lr_factor: float = 0.5  # multiply the learning rate by this on a plateau
    min_lr: float = 1e-5  # never below this
    seed: int = 0  # seeds the weights, the batch order and dropout
    monitor: str = "val_loss"  # the evaluation metric that decides 'best' (lower is better)
    checkpoint_seconds: float = 60.0  # also save last.safetensors this often within an epoch
    max_seconds: float = 0.0  # stop after this much training time; 0 for no limit
    progress: bool = True  # a progress bar over the batches of an epoch (on a terminal)
    log_to: tuple[str, ...] = ()  # also log to 'tensorboard' and/or 'mlflow' (rnnlab.run_logs); () : the CLI's --log

    def __post_init__(self) -> None:
        if self.optimizer not in ("adam", "adamw"):
            raise ValueError(f"optimizer must be 'adam' or 'adamw', got {self.optimizer!r}")
        for name in ("epochs", "patience", "lr_patience"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if self.clip_norm < 0:
            raise ValueError(f"clip_norm must be ≥ 0 (0 disables clipping), got {self.clip_norm!r}")
        unknown = [k for k in self.log_to if k not in ("tensorboard", "mlflow")]
        if unknown:
            raise ValueError(f"log_to takes 'tensorboard' and/or 'mlflow', got {unknown[0]!r}")


class TrainingTask(Protocol):
    """What a task gives the fit loop."""

    def batches(self, epoch: int, generator: torch.Generator) -> Iterable[Any]:
        """The training batches of one epoch, in an order fixed by ``generator`` (seeded per epoch)."""

    def loss(self, model: nn.Module, batch: Any, state: Any) -> tuple[Tensor, Any]:
        """The mean loss of one batch and the recurrent state to carry to the next batch (or None)."""

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Held-out metrics, lower is better for the monitored one; called in eval mode without gradients."""

    def batch_size(self, batch: Any) -> int:
        """Samples (windows, tokens, sentences) in a batch, for the throughput in the log."""


@dataclass
class FitResult:
    history: list[dict[str, Any]] = field(default_factory=list)  # one entry per epoch
    best_epoch: int = 0  # epoch of best.safetensors
    best: dict[str, float] = field(default_factory=dict)  # its evaluation
    seconds: float = 0.0  # training time, this run and any resumed ones
    stopped: str = "epochs"  # 'epochs', 'early stopping' or 'time limit'


def make_optimizer(model: nn.Module, config: TrainConfig, groups: list[dict] | None = None) -> torch.optim.Optimizer:
    """Adam or AdamW over the model's parameters; ``groups`` (``{"params": [...], "lr_scale": s}``) give parts of
    the model their own learning rate, ``s`` times the configured one (discriminative fine-tuning)."""
    cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    if groups:
        params = [{"params": g["params"], "lr": config.lr * g.get("lr_scale", 1.0)} for g in groups]
        return cls(params, lr=config.lr, weight_decay=config.weight_decay)
    return cls(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def format_log(entry: dict[str, Any]) -> str:
    """``epoch 3/30 | step 120 | train loss 0.4213 | val loss 0.5012 | lr 2.0e-03 | 1.2k samples/s``."""
    parts = []
    for key, value in entry.items():
        if key in ("epoch", "epochs", "time_s", "event"):
            continue
        label = key.replace("_", " ")
        if key == "lr":
            parts.append(f"lr {value:.1e}")
        elif key == "samples_per_s":
            parts.append(f"{value / 1000:.1f}k samples/s" if value >= 1000 else f"{value:.0f} samples/s")
        elif isinstance(value, float):
            parts.append(f"{label} {value:.4f}")
        else:
            parts.append(f"{label} {value}")
    head = f"epoch {entry['epoch']}/{entry['epochs']}" if "epoch" in entry else entry.get("event", "")
    return " | ".join([head, *parts, f"{entry.get('time_s', 0):.1f} s"])


def fit(
    model: nn.Module,
    task: TrainingTask,
    config: TrainConfig,
    run_dir: str | Path,
    *,
    metadata: dict[str, Any],
    resume: bool = False,
    log: Callable[[str], None] = print,
) -> FitResult:
    """Train ``model`` on ``task``; keep the best weights in ``run_dir/best.safetensors`` and load them at the end.

    ``metadata`` (JSON-able, with ``task``) goes into every checkpoint: what is needed to rebuild the model and its
    data transform. ``resume=True`` continues from ``run_dir/last.safetensors``; without it, a ``run_dir`` that
    already holds a checkpoint is refused, so a new run never overwrites a good model.
    """
    from rnnlab.runtime import tune_allocator

    tune_allocator()  # Python users get the allocator setting the command line gets (RNNLAB_ALLOCATOR=off opts out)
    run_dir = Path(run_dir)
    if resume and not (run_dir / "last.safetensors").exists():  # said before anything is created
        raise RnnlabError(f"nothing to resume: {run_dir / 'last.safetensors'} does not exist")
    if not resume and ((run_dir / "last.safetensors").exists() or (run_dir / "best.safetensors").exists()):
        raise RnnlabError(
            f"{run_dir} already holds a checkpoint; pass --resume (resume=True in Python) to continue it, or choose "
            "another run dir"
        )
    barrier()  # every process has looked before rank 0 writes anything
    with run_lock(run_dir):  # a second run into this folder is refused while this one trains
        return _fit(model, task, config, run_dir, metadata=metadata, resume=resume, log=log)


def _fit(model, task, config: TrainConfig, run_dir: Path, *, metadata, resume: bool, log) -> FitResult:
    last_path, best_path, log_path = (
        run_dir / "last.safetensors",
        run_dir / "best.safetensors",
        run_dir / "metrics.jsonl",
    )
    rank, world = rank_and_world()
    data = task.fingerprint() if hasattr(task, "fingerprint") else None
    for leftover in run_dir.glob(".*.safetensors.*.tmp"):  # a temporary of a save that a kill interrupted
        leftover.unlink(missing_ok=True)
    torch.manual_seed(config.seed)
    trained = model
    if world > 1:  # every process holds the whole model; DistributedDataParallel averages their gradients
        trained = nn.parallel.DistributedDataParallel(model)
    optimizer = make_optimizer(model, config, getattr(task, "param_groups", lambda m: None)(model))
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, factor=config.lr_factor, patience=config.lr_patience - 1, min_lr=config.min_lr
    )
    result = FitResult()
    position = {"epoch": 1, "batch": 0, "step": 0, "best_score": math.inf, "bad_epochs": 0, "finished": False}
    if resume:
        position, result = _restore(last_path, model, optimizer, scheduler, metadata, data)
        log(f"resuming from {last_path}: epoch {position['epoch']}, batch {position['batch']}, step {position['step']}")

    from rnnlab import run_logs

    kinds = tuple(config.log_to) or run_logs.DEFAULT
    loggers = run_logs.RunLogs(kinds, run_dir, asdict(config), metadata) if kinds and rank == 0 else None

    def write_log(entry: dict[str, Any]) -> None:
        log(format_log(entry))
        if rank == 0:
            with log_path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry) + "\n")
            if loggers is not None:
                loggers.epoch(entry)

    def save_last(epoch: int, batch: int) -> None:
        tensors = with_prefix("model", model.state_dict())
        optim_tensors, optim_plain = optimizer_to_checkpoint(optimizer)
        tensors |= with_prefix("optim", optim_tensors) | {"rng.torch": torch.get_rng_state()}
        training = {**position, "epoch": epoch, "batch": batch, "optimizer": optim_plain, "data": data}
        training |= {"scheduler": scheduler.state_dict(), "history": result.history, "seconds": result.seconds}
        training |= {"best_epoch": result.best_epoch, "best": result.best, "config": asdict(config)}
        save_checkpoint(last_path, tensors, {**metadata, "training": training})

    start_epoch, skip = position["epoch"], position["batch"]
    if position.get("finished"):  # resuming a run that early stopping had ended: nothing more to do
        start_epoch = config.epochs + 1
    session_start = time.perf_counter() - result.seconds
    done = (start_epoch, skip)  # (epoch, batches finished in it): where an interrupted run stands
    try:
        for epoch in range(start_epoch, config.epochs + 1):
            model.train()
            generator = torch.Generator().manual_seed(config.seed * 100_003 + epoch)
            batches = list(task.batches(epoch, generator))
            state, losses, samples, epoch_start, last_save = None, [], 0, time.perf_counter(), time.perf_counter()
            for index, batch in enumerate(_progress(batches, epoch, config), start=1):
                if index <= skip:  # a resumed epoch: these batches were done before the interruption
                    continue
                part, weight = shard(batch, rank, world)  # this process's share of the batch
                loss, state = task.loss(trained, part, state)
                out_of_time = bool(config.max_seconds) and time.perf_counter() - session_start >= config.max_seconds
                # every process sees the batch's loss and whether any is out of time, so all decide alike
                shared = all_sum(torch.tensor([loss.item() * weight, weight, float(out_of_time)]))
                if not math.isfinite(shared[0].item()):
                    raise RnnlabError(
                        f"training diverged: the loss is {shared[0].item()} at epoch {epoch}, batch {index}; the last "
                        f"good checkpoints are kept in {run_dir}; try a lower --lr or a smaller --clip-norm"
                    )
                optimizer.zero_grad(set_to_none=True)
                (loss * weight).backward()
                if config.clip_norm > 0:
                    nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
                optimizer.step()
                done = (epoch, index)
                state = _detach(state)  # truncated BPTT: the state flows on, its gradient stops here
                position["step"] += 1
                losses.append(shared[0].item() / max(shared[1].item(), 1.0))
                samples += task.batch_size(batch)
                if time.perf_counter() - last_save >= config.checkpoint_seconds:
                    result.seconds = time.perf_counter() - session_start
                    save_last(epoch, index)
                    last_save = time.perf_counter()
                if shared[2].item() > 0:
                    break
            skip = 0
            train_seconds = time.perf_counter() - epoch_start

            model.eval()
            with torch.no_grad():
                scores = task.evaluate(model)
            if config.monitor not in scores:
                raise RnnlabError(f"the task's evaluation has no '{config.monitor}'; it has: {', '.join(scores)}")
            score = scores[config.monitor]
            if not math.isfinite(score):
                raise RnnlabError(
                    f"training diverged: validation {config.monitor} is {score} at epoch {epoch}; the last good "
                    f"checkpoints are kept in {run_dir}; try a lower --lr or a smaller --clip-norm"
                )
            scheduler.step(score)
            improved = score < position["best_score"]
            result.seconds = time.perf_counter() - session_start
            entry = {"epoch": epoch, "epochs": config.epochs, "step": position["step"]}
            entry |= {"train_loss": sum(losses) / max(len(losses), 1), **{f"{k}": float(v) for k, v in scores.items()}}
            entry |= {"lr": optimizer.param_groups[0]["lr"], "samples_per_s": samples / max(train_seconds, 1e-9)}
            entry |= {"time_s": result.seconds}
            if improved:
                position["best_score"], position["bad_epochs"] = score, 0
                result.best_epoch, result.best = epoch, {k: float(v) for k, v in scores.items()}
                save_checkpoint(best_path, with_prefix("model", model.state_dict()), {**metadata, "best": entry})
                entry["best"] = "*"
            else:
                position["bad_epochs"] += 1
            result.history.append(entry)
            write_log(entry)
            timed_out = bool(config.max_seconds) and result.seconds >= config.max_seconds
            stop = position["bad_epochs"] >= config.patience or timed_out
            position["finished"] = position["bad_epochs"] >= config.patience  # resumed, it stays stopped
            save_last(epoch + 1, 0)
            done = (epoch + 1, 0)
            if stop:
                result.stopped = "time limit" if timed_out else "early stopping"
                break

    except KeyboardInterrupt:  # Ctrl-C: keep the exact position, so that --resume loses nothing
        result.seconds = time.perf_counter() - session_start
        save_last(*done)
        log(f"interrupted at epoch {done[0]}, batch {done[1]}; saved {last_path}; continue with --resume")
        raise
    finally:
        if loggers is not None:
            loggers.close()

    tensors, _ = load_checkpoint(best_path)
    model.load_state_dict(strip_prefix("model", tensors))
    return result


def _restore(path: Path, model, optimizer, scheduler, metadata: dict[str, Any], data: str | None):
    tensors, document = load_checkpoint(path, task=metadata["task"])
    if document.get("model") != metadata.get("model"):
        raise RnnlabError(f"{path} was trained with model {document.get('model')}, not {metadata.get('model')}")
    training = document["training"]
    if data and training.get("data") and training["data"] != data:
        raise RnnlabError(
            f"--resume with other data: {path} was trained on data {training['data']}, this data is {data}; resume "
            "with the same data and options, or start a new run"
        )
    model.load_state_dict(strip_prefix("model", tensors))
    optimizer_from_checkpoint(optimizer, strip_prefix("optim", tensors), training["optimizer"])
    scheduler.load_state_dict(training["scheduler"])
    torch.set_rng_state(tensors["rng.torch"])
    result = FitResult(training["history"], training["best_epoch"], training["best"], training["seconds"])
    keys = ("epoch", "batch", "step", "best_score", "bad_epochs", "finished")
    return {k: training.get(k, False) for k in keys}, result


def _detach(state: Any) -> Any:
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    return type(state)(_detach(s) for s in state)


def _progress(batches: list, epoch: int, config: TrainConfig) -> Iterator:
    if not config.progress:
        return iter(batches)
    from tqdm.auto import tqdm

    return iter(tqdm(batches, desc=f"epoch {epoch}", leave=False, disable=None, unit="batch"))
