"""Claim: gradient-norm clipping prevents exploding gradients from wrecking training.

A ReLU Elman RNN on the adding problem, T = 50, its recurrent matrix started at 0.95 × the identity (Le et al.'s
IRNN, scaled to 0.95), SGD at rate 0.01, trained 300 steps with and without clipping the global gradient norm at
1.0, for 5 seeds.
Prints how many runs blew up (a non-finite loss, or a loss above 10× the trivial baseline) and the final test MSE.
Run: python docs/claims/clipping.py   (about a minute on 2 cores)
"""

import math

import torch

import rnnlab
from rnnlab.experiments.memory import adding_batch, baseline

STEPS, T, SEEDS = 300, 50, 5
SCALE, LR = 0.95, 0.01
trivial = baseline("adding", T)
for clip in (None, 1.0):
    blown, finals = 0, []
    for seed in range(SEEDS):
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        rnn = rnnlab.RNN(2, 64, nonlinearity="relu", batch_first=True)
        with torch.no_grad():
            rnn.weight_hh_l0.copy_(SCALE * torch.eye(64))
            rnn.bias_hh_l0.zero_()
        head = torch.nn.Linear(64, 1)
        parameters = [*rnn.parameters(), *head.parameters()]
        optimizer = torch.optim.SGD(parameters, lr=LR)
        exploded = False
        for _ in range(STEPS):
            x, y = adding_batch(64, T, generator)
            out, _ = rnn(x)
            loss = torch.nn.functional.mse_loss(head(out[:, -1]), y)
            if not math.isfinite(loss.item()) or loss.item() > 10 * trivial:
                exploded = True
                break
            optimizer.zero_grad()
            loss.backward()
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(parameters, clip)
            optimizer.step()
        blown += exploded
        if not exploded:
            with torch.no_grad():
                x, y = adding_batch(1000, T, torch.Generator().manual_seed(999))
                finals.append(torch.nn.functional.mse_loss(head(rnn(x)[0][:, -1]), y).item())
    shown = f"{sum(finals) / len(finals):.3f}" if finals else "-"
    print(f"clip {clip}: {blown}/{SEEDS} runs blew up; mean test MSE of the others {shown} (trivial {trivial:.3f})")
