"""muon.py — the Muon optimiser for the 2-D weight matrices of the transformer blocks.

Muon = SGD with Nesterov momentum whose update for each weight matrix is "orthogonalised": the
momentum matrix M = U S V^T is replaced by (approximately) U V^T, i.e. all its singular values are set
to about 1. Plain gradients of a transformer's matrices are dominated by a few directions; equalising
the singular values lets the rare directions learn too, which buys noticeably more progress per step
when the run is short (Keller Jordan, "Muon: An optimizer for hidden layers in neural networks", 2024).

U V^T is computed without an SVD by a Newton-Schulz iteration on X = M / |M|_F:
    X <- a X + (b A + c A^2) X,   A = X X^T,
with the quintic coefficients (a, b, c) = (3.4445, -4.7750, 2.0315) from that write-up, which push
every singular value in (0, 1] toward ~1 (roughly into [0.7, 1.2]) within five steps.
The update is scaled by sqrt(max(1, rows / cols)) so tall and wide matrices move alike.

Embeddings and RMSNorm gains are not matrices in this sense (one row per token, or one vector): they
stay with AdamW (see train.py).
"""

from __future__ import annotations

import torch


def orthogonalize(m: torch.Tensor, steps: int = 5) -> torch.Tensor:
    """Approximately U V^T for m = U S V^T (m is [rows, cols])."""
    a, b, c = 3.4445, -4.7750, 2.0315
    x = m / (m.norm() + 1e-7)
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.t()  # iterate on the wide side: A is then the smaller of the two Gram matrices
    for _ in range(steps):
        gram = x @ x.t()
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.t() if tall else x


class Muon(torch.optim.Optimizer):
    def __init__(self, params, lr: float = 0.02, momentum: float = 0.95, weight_decay: float = 0.0,
                 ns_steps: int = 5):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, ns_steps=ns_steps))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                assert p.dim() == 2, "Muon is for weight matrices only"
                state = self.state[p]
                if "momentum" not in state:
                    state["momentum"] = torch.zeros_like(p)
                buf = state["momentum"]
                buf.mul_(group["momentum"]).add_(p.grad)
                nesterov = p.grad.add(buf, alpha=group["momentum"])
                update = orthogonalize(nesterov, group["ns_steps"])
                scale = max(1.0, p.shape[0] / p.shape[1]) ** 0.5
                if group["weight_decay"]:
                    p.mul_(1 - group["lr"] * group["weight_decay"])  # decoupled, as in AdamW
                p.add_(update, alpha=-group["lr"] * scale)
