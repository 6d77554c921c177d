"""Run by tests/test_distributed.py under torchrun: a few optimisation steps of the fit loop, one batch per step."""

from __future__ import annotations

import sys

import torch
from torch import nn

from rnnlab.distributed import init_from_environment
from rnnlab.nn import GRU
from rnnlab.train import TrainConfig, fit


class Sums:
    """y = the sum of a sequence; one batch of 8 windows per epoch."""

    def __init__(self) -> None:
        generator = torch.Generator().manual_seed(1)
        self.x = torch.randn(32, 5, 2, generator=generator)
        self.y = self.x.sum(dim=(1, 2))[:, None]

    def batches(self, epoch, generator):
        return [torch.randperm(len(self.x), generator=generator)[:8]]

    def loss(self, model, batch, state):
        return (model(self.x[batch]) - self.y[batch]).square().mean(), None

    def evaluate(self, model):
        return {"val_loss": (model(self.x) - self.y).square().mean().item()}

    def batch_size(self, batch):
        return len(batch)


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.rnn = GRU(2, 8, batch_first=True)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def run(run_dir: str, epochs: int) -> None:
    config = TrainConfig(epochs=epochs, patience=epochs, clip_norm=0.5, progress=False, seed=3)
    fit(Net(), Sums(), config, run_dir, metadata={"task": "test", "model": {}}, log=lambda s: None)


if __name__ == "__main__":
    init_from_environment()
    run(sys.argv[1], int(sys.argv[2]))
