"""Muon on a model's hidden weight matrices and AdamW on the rest, stepped as one optimizer.

Muon (torch's ``torch.optim.Muon``: momentum, then the update orthogonalised by Newton-Schulz iterations) takes
only 2-D parameters, and is meant for the hidden layers' matrices; embeddings, the output head, norms and biases
keep AdamW. transformers' Trainer steps and schedules one optimizer, so ``MuonWithAdamW`` holds the two and
shares their parameter groups: a learning-rate scheduler that scales its groups scales both, each group from its
own peak (``muon_lr`` for the matrices, ``lr`` for the rest).
"""

from __future__ import annotations

from typing import Any

import torch


def muon_with_adamw(model: Any, *, lr: float, muon_lr: float, weight_decay: float = 0.0,
                    betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> MuonWithAdamW:
    """The optimizer of ``model``'s trainable parameters: Muon for the 2-D ones other than the input and output
    embeddings (tied or not), AdamW for everything else. A transformers ``Trainer`` builds it through
    ``optimizer_cls_and_kwargs=(lambda: muon_with_adamw, kwargs)`` (its factory protocol: called with the model)."""
    embeddings = {id(module.weight) for module in (model.get_input_embeddings(), model.get_output_embeddings())
                  if module is not None}
    matrices, rest = [], []
    for parameter in model.parameters():
        if parameter.requires_grad:
            hidden_matrix = parameter.ndim == 2 and id(parameter) not in embeddings
            (matrices if hidden_matrix else rest).append(parameter)
    return MuonWithAdamW(matrices, rest, lr=lr, muon_lr=muon_lr, weight_decay=weight_decay, betas=betas, eps=eps)


class MuonWithAdamW(torch.optim.Optimizer):
    """AdamW over ``rest`` and torch's Muon over ``matrices`` as one optimizer (``parts``, in that order). Its
    ``param_groups`` are the two optimizers' own group dicts, AdamW's first, so learning rates set on it reach
    them and the rate transformers logs (the first group's) is AdamW's; ``defaults["lr"]`` is AdamW's peak, which
    transformers' polynomial schedule reads as the reference for its end value."""

    def __init__(self, matrices: list[torch.Tensor], rest: list[torch.Tensor], *, lr: float, muon_lr: float,
                 weight_decay: float = 0.0, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        if not matrices:
            raise ValueError("Muon has no hidden weight matrices to train (every trainable parameter is an "
                             "embedding, a norm or a bias); use AdamW")
        self.parts = [torch.optim.AdamW(rest, lr=lr, weight_decay=weight_decay, betas=betas, eps=eps)] if rest else []
        self.parts.append(torch.optim.Muon(matrices, lr=muon_lr, weight_decay=weight_decay))
        super().__init__([group for part in self.parts for group in part.param_groups], {"lr": lr})

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for part in self.parts:
            part.step()
        return loss

    def state_dict(self) -> dict[str, Any]:
        return {"parts": [part.state_dict() for part in self.parts]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load each part's state. A torch optimizer's ``load_state_dict`` replaces its group dicts with new ones,
        so the groups are linked again: accelerate round-trips every optimizer's state when it prepares it, and a
        schedule set on stale dicts would never reach the parts."""
        for part, state in zip(self.parts, state_dict["parts"], strict=True):
            part.load_state_dict(state)
        self.param_groups = [group for part in self.parts for group in part.param_groups]
