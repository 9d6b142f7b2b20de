"""Muon on the hidden matrices and AdamW on the rest, as one optimizer transformers' Trainer steps and schedules."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="training needs the train extra")
pytest.importorskip("transformers", reason="training needs the train extra")

from inftool.train.optimizers import MuonWithAdamW, muon_with_adamw  # noqa: E402


def tiny_llama(tied: bool):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    return LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                        num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=tied))


def loss_of(model) -> torch.Tensor:
    ids = torch.randint(0, 64, (4, 12), generator=torch.Generator().manual_seed(1))
    return model(input_ids=ids, labels=ids).loss


@pytest.mark.parametrize("tied", [True, False])
def test_muon_takes_the_hidden_matrices_and_adamw_the_embeddings_norms_and_head(tied):
    model = tiny_llama(tied)
    optimizer = muon_with_adamw(model, lr=1e-3, muon_lr=0.02)
    adamw, muon = optimizer.parts
    in_muon = {id(p) for group in muon.param_groups for p in group["params"]}
    in_adamw = {id(p) for group in adamw.param_groups for p in group["params"]}
    for name, parameter in model.named_parameters():
        hidden_matrix = ".layers." in name and parameter.ndim == 2
        assert (id(parameter) in in_muon) == hidden_matrix and (id(parameter) in in_adamw) != hidden_matrix, name
    assert len(in_muon) == 2 * 7 and optimizer.param_groups == [*adamw.param_groups, *muon.param_groups]


def test_one_step_moves_each_matrix_by_an_orthogonalised_update_and_the_rest_by_adam():
    model = tiny_llama(tied=True)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    optimizer = muon_with_adamw(model, lr=1e-3, muon_lr=0.02)
    loss_of(model).backward()
    optimizer.step()
    after = dict(model.named_parameters())
    for name in ("model.layers.0.self_attn.q_proj.weight", "model.layers.1.mlp.down_proj.weight"):
        singular = torch.linalg.svdvals((before[name] - after[name]).detach() / 0.02)
        rows, cols = after[name].shape
        scale = max(1.0, rows / cols) ** 0.5  # torch's original scale for a tall matrix
        assert singular[:len(singular) // 2].min() > 0.5 * scale and singular.max() < 1.5 * scale, name
    for name in ("model.embed_tokens.weight", "model.norm.weight"):  # Adam's first step: lr times the gradient's sign
        assert (before[name] - after[name]).abs().max().item() == pytest.approx(1e-3, rel=1e-3), name


def test_a_transformers_schedule_scales_both_learning_rates_from_their_own_peaks():
    from transformers import get_scheduler

    model = tiny_llama(tied=True)
    optimizer = muon_with_adamw(model, lr=1e-3, muon_lr=0.02)
    schedule = get_scheduler("polynomial", optimizer, num_warmup_steps=2, num_training_steps=10,
                             scheduler_specific_kwargs={"lr_end": 1e-4, "power": 1.0})
    adamw, muon = optimizer.parts
    for _ in range(6):
        loss_of(model).backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        assert muon.param_groups[0]["lr"] == pytest.approx(20 * adamw.param_groups[0]["lr"])
        assert all(p.grad is None for p in model.parameters())
    assert adamw.param_groups[0]["lr"] == pytest.approx(1e-4 + (1e-3 - 1e-4) * 4 / 8)
    state = optimizer.state_dict()
    fresh = muon_with_adamw(tiny_llama(tied=True), lr=1e-3, muon_lr=0.02)
    fresh.load_state_dict(state)
    assert len(fresh.parts[1].state) == 14 and len(fresh.parts[0].state) == len(adamw.state)
    fresh.param_groups[-1]["lr"] = 0.5  # still the parts' own groups after loading (accelerate loads every state)
    assert fresh.parts[1].param_groups[-1]["lr"] == 0.5


def test_a_model_without_hidden_matrices_is_refused():
    with pytest.raises(ValueError, match="use AdamW"):
        MuonWithAdamW([], [torch.nn.Parameter(torch.zeros(3))], lr=1e-3, muon_lr=0.02)
