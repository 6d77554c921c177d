"""The fit loop: resume reproduces an uninterrupted run, early stopping, LR on plateau, NaN stops, TBPTT detaches."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from rnnlab.checkpoint import load_checkpoint
from rnnlab.errors import RnnlabError
from rnnlab.nn import GRU
from rnnlab.train import TrainConfig, fit


class Regression:
    """y = sum of a sequence; windows of 5 steps, batches of 8."""

    def __init__(self, n: int = 64, noisy_eval: bool = False) -> None:
        gen = torch.Generator().manual_seed(1)
        self.x = torch.randn(n, 5, 2, generator=gen)
        self.y = self.x.sum(dim=(1, 2))[:, None]
        self.noisy_eval = noisy_eval
        self.states_seen: list = []

    def batches(self, epoch, generator):
        order = torch.randperm(len(self.x), generator=generator)
        return [order[i : i + 8] for i in range(0, len(order), 8)]

    def loss(self, model, batch, state):
        self.states_seen.append(state)
        out, _ = model.rnn(self.x[batch])
        return (model.head(out[:, -1]) - self.y[batch]).square().mean(), None

    def evaluate(self, model):
        out, _ = model.rnn(self.x)
        loss = (model.head(out[:, -1]) - self.y).square().mean().item()
        return {"val_loss": loss + (1.0 if self.noisy_eval else 0.0)}

    def batch_size(self, batch):
        return len(batch)


class Model(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.rnn = GRU(2, 8, batch_first=True)
        self.head = nn.Linear(8, 1)


META = {"task": "test", "model": {"hidden": 8}}


def test_resumed_run_ends_with_the_same_weights_as_an_uninterrupted_one(tmp_path):
    straight = Model()
    fit(
        straight, Regression(), TrainConfig(epochs=4, progress=False), tmp_path / "a", metadata=META, log=lambda s: None
    )
    first = Model()
    fit(first, Regression(), TrainConfig(epochs=2, progress=False), tmp_path / "b", metadata=META, log=lambda s: None)
    resumed = Model()
    fit(resumed, Regression(), TrainConfig(epochs=4, progress=False), tmp_path / "b", metadata=META, resume=True,
        log=lambda s: None)  # fmt: skip
    last_a, _ = load_checkpoint(tmp_path / "a" / "last.safetensors")
    last_b, _ = load_checkpoint(tmp_path / "b" / "last.safetensors")
    for key in last_a:
        if key.startswith("model."):
            torch.testing.assert_close(last_a[key], last_b[key], rtol=0, atol=0)
    lines = [json.loads(line) for line in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert [entry["epoch"] for entry in lines] == [1, 2, 3, 4]


def test_ctrl_c_saves_the_exact_position_and_resume_loses_nothing(tmp_path):
    class Interrupted(Regression):
        calls = 0

        def loss(self, model, batch, state):
            Interrupted.calls += 1
            if Interrupted.calls == 13:  # epoch 2 (8 batches each), batch 5
                raise KeyboardInterrupt
            return super().loss(model, batch, state)

    straight = Model()
    fit(
        straight, Regression(), TrainConfig(epochs=3, progress=False), tmp_path / "a", metadata=META, log=lambda s: None
    )
    printed = []
    with pytest.raises(KeyboardInterrupt):
        fit(Model(), Interrupted(), TrainConfig(epochs=3, progress=False), tmp_path / "b", metadata=META,
            log=printed.append)  # fmt: skip
    assert "interrupted at epoch 2, batch 4" in printed[-1]
    _, meta = load_checkpoint(tmp_path / "b" / "last.safetensors")
    assert (meta["training"]["epoch"], meta["training"]["batch"]) == (2, 4)
    resumed = Model()
    fit(resumed, Regression(), TrainConfig(epochs=3, progress=False), tmp_path / "b", metadata=META, resume=True,
        log=lambda s: None)  # fmt: skip
    a, _ = load_checkpoint(tmp_path / "a" / "last.safetensors")
    b, _ = load_checkpoint(tmp_path / "b" / "last.safetensors")
    for key in (k for k in a if k.startswith("model.")):
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


def test_a_run_dir_with_a_checkpoint_is_not_overwritten_without_resume(tmp_path):
    fit(Model(), Regression(), TrainConfig(epochs=1, progress=False), tmp_path, metadata=META, log=lambda s: None)
    before = (tmp_path / "best.safetensors").read_bytes()
    with pytest.raises(RnnlabError, match="--resume"):
        fit(Model(), Regression(), TrainConfig(epochs=1, progress=False), tmp_path, metadata=META, log=lambda s: None)
    assert (tmp_path / "best.safetensors").read_bytes() == before


def test_early_stopping_and_lr_on_plateau(tmp_path):
    class Flat(Regression):
        def evaluate(self, model):
            return {"val_loss": 1.0}  # never improves after the first epoch

    config = TrainConfig(epochs=20, patience=4, lr_patience=2, lr=1e-2, progress=False)
    result = fit(Model(), Flat(), config, tmp_path, metadata=META, log=lambda s: None)
    assert result.stopped == "early stopping"
    assert len(result.history) == 5 and result.best_epoch == 1
    assert result.history[-1]["lr"] < 1e-2


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_good_checkpoint(tmp_path):
    class Diverging(Regression):
        calls = 0

        def loss(self, model, batch, state):
            Diverging.calls += 1
            loss, _ = super().loss(model, batch, state)
            return (loss * float("nan") if Diverging.calls > 10 else loss), None

    with pytest.raises(RnnlabError, match="training diverged: the loss is nan at epoch 2"):
        fit(Model(), Diverging(), TrainConfig(epochs=5, progress=False), tmp_path, metadata=META, log=lambda s: None)
    tensors, meta = load_checkpoint(tmp_path / "best.safetensors")
    assert meta["best"]["epoch"] == 1
    assert all(torch.isfinite(t).all() for t in tensors.values())


def test_nan_validation_score_stops_with_a_clear_error(tmp_path):
    class NanEval(Regression):
        def evaluate(self, model):
            return {"val_loss": float("nan")}

    with pytest.raises(RnnlabError, match="validation val_loss is nan at epoch 1"):
        fit(Model(), NanEval(), TrainConfig(epochs=3, progress=False), tmp_path, metadata=META, log=lambda s: None)


def test_truncated_bptt_hands_the_next_batch_a_detached_state(tmp_path):
    class Stateful(Regression):
        def loss(self, model, batch, state):
            self.states_seen.append(state)
            out, h = model.rnn(self.x[batch[:4]], state)
            return (model.head(out[:, -1]) - self.y[batch[:4]]).square().mean(), h

    task = Stateful()
    fit(Model(), task, TrainConfig(epochs=1, progress=False), tmp_path, metadata=META, log=lambda s: None)
    assert task.states_seen[0] is None
    assert all(s is not None and not s.requires_grad for s in task.states_seen[1:])


def test_log_lines_are_printed_and_written_as_json(tmp_path):
    printed = []
    fit(Model(), Regression(), TrainConfig(epochs=2, progress=False), tmp_path, metadata=META, log=printed.append)
    assert printed[0].startswith("epoch 1/2 | step 8 | train loss ")
    assert "val loss" in printed[0] and "samples/s" in printed[0]
    entries = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert entries[0]["epoch"] == 1 and "val_loss" in entries[0]


@pytest.mark.parametrize(("field", "value"), [("optimizer", "sgd"), ("epochs", 0), ("lr", -1.0), ("clip_norm", -1)])
def test_bad_train_config_values_are_quoted(field, value):
    with pytest.raises(ValueError, match=repr(value).replace("(", r"\(")):
        TrainConfig(**{field: value})


def test_every_step_sees_gradients_clipped_to_the_norm(tmp_path, monkeypatch):
    norms = []
    step = torch.optim.Adam.step

    def recording_step(self, *args, **kwargs):
        grads = [p.grad for group in self.param_groups for p in group["params"] if p.grad is not None]
        norms.append(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])).item())
        return step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", recording_step)
    fit(Model(), Regression(), TrainConfig(epochs=2, clip_norm=0.05, progress=False), tmp_path / "a", metadata=META,
        log=lambda s: None)  # fmt: skip
    assert len(norms) == 16 and max(norms) <= 0.05 * (1 + 1e-5)
    norms.clear()
    fit(Model(), Regression(), TrainConfig(epochs=1, clip_norm=0, progress=False), tmp_path / "b", metadata=META,
        log=lambda s: None)  # fmt: skip
    assert max(norms) > 0.05  # without clipping these gradients are larger: the bound above was the clipping's


class Stateful(Regression):
    """Truncated BPTT with an LSTM: the (h, c) state flows from batch to batch."""

    def loss(self, model, batch, state):
        self.states_seen.append(state)
        x = self.x[:8]  # the same 8 streams every batch, as a stateful text model reads them
        out, state = model.rnn(x, state)
        return (model.head(out[:, -1]) - self.y[:8]).square().mean(), state


class LSTMModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        from rnnlab.nn import LSTM

        self.rnn = LSTM(2, 8, batch_first=True)
        self.head = nn.Linear(8, 1)


def test_an_lstm_state_is_carried_as_a_tuple_and_detached_between_batches(tmp_path):
    task = Stateful()
    fit(LSTMModel(), task, TrainConfig(epochs=1, progress=False), tmp_path, metadata=META, log=lambda s: None)
    carried = [s for s in task.states_seen if s is not None]
    assert len(carried) == 7 and all(isinstance(s, tuple) and len(s) == 2 for s in carried)
    assert all(t.grad_fn is None and not t.requires_grad for s in carried for t in s)  # gradients stop here
    assert not torch.equal(carried[0][0], carried[1][0])  # ... while the state itself flows on
