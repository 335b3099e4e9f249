"""GRPO: group advantages, the zero-signal group, and a reward that rises on a tiny verifiable task."""

import random

import pytest
import torch

from trainer.config import load_config
from trainer.model.transformer import ModelConfig, Transformer
from trainer.posttrain import grpo, rollout
from trainer.posttrain.grpo_loss import group_advantages, k3_kl, policy_loss, token_logprobs
from trainer.train import distributed

VOCAB = list("0123456789+=$")  # "$" ends a completion


class CharCodec:
    """One token per character: "3+4=" -> [3, 10, 4, 11]; completions stop at "$"."""

    stop_ids = [VOCAB.index("$")]

    def encode(self, text: str) -> list[int]:
        return [VOCAB.index(c) for c in text]

    def decode(self, ids: list[int]) -> str:
        return "".join(VOCAB[i] for i in ids)


def arithmetic_prompts() -> list[dict]:
    """"a+b=" for a, b in 0..4, answered by the sum (rewarded by the synth stage's arithmetic checker)."""
    return [{"prompt_text": f"{a}+{b}=", "answer": str(a + b), "checker": "arithmetic", "tolerance": None}
            for a in range(5) for b in range(5)]


def tiny_policy(seed: int = 0) -> Transformer:
    torch.manual_seed(seed)
    return Transformer(ModelConfig(vocab_size=len(VOCAB), dim=32, n_layers=1, n_heads=4, max_seq_len=16))


def warm_policy(steps: int, seed: int = 0) -> Transformer:
    """Briefly supervised on "a+b=c$" so some completions are right and groups carry signal."""
    model, codec, rng = tiny_policy(seed), CharCodec(), random.Random(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(steps):
        rows = []
        for _ in range(32):
            a, b = rng.randrange(5), rng.randrange(5)
            rows.append(codec.encode(f"{a}+{b}={a + b}$"))
        batch = torch.tensor(rows)
        logits = model(batch[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits[:, 3:].flatten(0, 1), batch[:, 4:].flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_advantages_sum_to_zero_within_each_group():
    rewards = torch.tensor([[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0], [0.3, 0.9, 0.1, 0.5], [1.0, 1.0, 1.0, 1.0]])
    adv = group_advantages(rewards)
    assert torch.allclose(adv.sum(-1), torch.zeros(4), atol=1e-5)
    assert torch.equal(adv[3], torch.zeros(4))  # all equal: no signal
    assert (adv[1, 3] > 0) and (adv[1, :3] < 0).all()
    assert torch.allclose(adv[0], torch.tensor([1.0, -1.0, -1.0, 1.0]), atol=1e-3)  # unit std


def _grads(model, groups, total_tokens, beta=0.0):
    model.zero_grad()
    for g in groups:
        x, y, m = rollout.group_tensors(g, "cpu")
        logp = grpo.completion_logprobs(model, x, y, len(g.prompt), 1.0)
        adv = group_advantages(torch.tensor([g.rewards]))[0]
        ref = logp.detach() if beta else None
        loss, _ = policy_loss(logp, logp.detach(), adv, m, total_tokens, clip_eps=0.2, beta=beta, ref_logp=ref)
        loss.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters()}


def test_a_group_with_equal_rewards_contributes_no_gradient():
    model, codec = tiny_policy(), CharCodec()
    flat = rollout.Group(codec.encode("1+2="), [codec.encode("3$"), codec.encode("3$"), codec.encode("12")],
                      [1.0, 1.0, 1.0])
    mixed = rollout.Group(codec.encode("2+2="), [codec.encode("4$"), codec.encode("5$"), codec.encode("1")],
                       [1.0, 0.0, 0.0])
    alone = _grads(model, [flat], total_tokens=11)
    assert all(torch.count_nonzero(g) == 0 for g in alone.values())
    # beside a group with signal, the flat group changes nothing (same token normaliser)
    both, only_mixed = _grads(model, [mixed, flat], total_tokens=11), _grads(model, [mixed], total_tokens=11)
    assert any(torch.count_nonzero(g) for g in only_mixed.values())
    for name in both:
        assert torch.equal(both[name], only_mixed[name]), name
    # the k3 KL term vanishes (with its gradient) where the policy equals the reference
    assert all(torch.count_nonzero(g) == 0 for g in _grads(model, [flat], 11, beta=0.1).values())


def test_clipped_ratio_stops_the_gradient_and_token_mean_normalises():
    logp = torch.log(torch.tensor([[1.5, 1.0]])).requires_grad_()
    old = torch.zeros(1, 2)
    loss, stats = policy_loss(logp, old, torch.tensor([1.0]), torch.ones(1, 2), total_tokens=2, clip_eps=0.2)
    loss.backward()
    assert logp.grad[0, 0] == 0 and logp.grad[0, 1] != 0  # ratio 1.5 > 1 + eps with A > 0: clipped
    assert stats["clipped"] == 1.0
    assert torch.isclose(loss, torch.tensor(-(1.2 + 1.0) / 2))
    assert float(k3_kl(torch.tensor(-1.0), torch.tensor(-1.0))) == 0.0 and float(k3_kl(torch.tensor(-1.0), torch.tensor(-2.0))) > 0
    logits = torch.randn(2, 3, len(VOCAB))
    targets = torch.randint(len(VOCAB), (2, 3))
    want = logits.log_softmax(-1).gather(-1, targets[..., None])[..., 0]
    assert torch.allclose(token_logprobs(logits, targets), want, atol=1e-6)


def test_mean_reward_rises_on_a_tiny_verifiable_task(tmp_path):
    # two updates per batch: the second sees ratios != 1 against the stored old log-probabilities
    cfg = load_config(None, ["steps=18", "prompts_per_step=8", "group_size=8", "max_new_tokens=3", "lr=1e-2",
                             "beta=0.04", "updates_per_batch=2", "seed=0"], cls=grpo.GrpoConfig)
    records = grpo.run(cfg, warm_policy(20), CharCodec(), arithmetic_prompts(), distributed.setup(), "fp32", tmp_path)
    rewards = [r["reward_mean"] for r in records]
    first, last = sum(rewards[:5]) / 5, sum(rewards[-5:]) / 5  # measured: 0.19 -> 0.51
    assert last > first + 0.15, rewards
    assert any(r["clip_frac"] > 0 for r in records)
    for r in records:  # 0/1 rewards: the step's std is sqrt(p (1 - p))
        assert abs(r["reward_std"] - (r["reward_mean"] * (1 - r["reward_mean"])) ** 0.5) < 1e-6
    assert all(r["kl"] is not None and r["kl"] >= 0 for r in records)
    assert all(0 < r["completion_len"] <= 3 for r in records)
    assert (tmp_path / "metrics.jsonl").read_text().count("\n") == 18
    assert (tmp_path / "checkpoints" / "latest").is_file()


def test_val_split_prompts_stay_out_of_training(tmp_path):
    """trainer.eval.evaluate scores RL records of the val split as held out: GRPO must not train on them."""
    import json

    records = [{"id": f"rec{i}", "prompt_text": f"{i}+0=", "answer": str(i), "checker": "arithmetic",
                "tolerance": None, "split": "val" if i % 3 == 0 else "train"} for i in range(40)]
    (tmp_path / "rl.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    kept = rollout.load_prompts(tmp_path)
    val = {r["id"] for r in records if r["split"] == "val"}
    assert val and kept and len(kept) + len(val) == 40
    assert not {r["id"] for r in kept} & val
    assert len(rollout.load_prompts(tmp_path / "rl.jsonl", train_split_only=False)) == 40
