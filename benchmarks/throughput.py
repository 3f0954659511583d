"""Throughput benchmarks: learner FLOP efficiency, rollout speed, epoch time split, MPI scaling.

TensorFlow stays inside the learner's modules: the matmul peak that the learner is compared
against is measured by :func:`herdemos.actor_critic.matmul_peak_gflops`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from herdemos.util import HerdemosError

ROOT = Path(__file__).resolve().parents[1]
ENV = "FetchPickAndPlace-v4"


def mlp_flops(batch: int, sizes: list[int]) -> float:
    """Forward multiply-add FLOPs of an MLP with the given layer sizes."""
    return sum(2.0 * batch * a * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))


def update_flops(batch: int, dim_o: int, dim_g: int, dim_u: int, hidden: int, layers: int) -> float:
    """FLOPs of one DDPG update (matmuls only), counting each pass explicitly:

    target actor fwd + target critic fwd (the TD target), critic fwd + bwd (weights and inputs:
    2x fwd), actor fwd, critic fwd on pi, critic bwd to its inputs only (1x fwd), actor bwd (2x).
    """
    actor = mlp_flops(batch, [dim_o + dim_g, *[hidden] * layers, dim_u])
    critic = mlp_flops(batch, [dim_o + dim_g + dim_u, *[hidden] * layers, 1])
    return (actor + critic) + 3 * critic + (actor + critic + critic + 2 * actor)


def learner_updates_per_second(n: int = 150) -> dict:
    from herdemos.config import DDPGConfig
    from herdemos.ddpg import DDPG, Dims

    cfg = DDPGConfig(bc_loss=True, q_filter=True)
    dims = Dims(25, 3, 4)
    learner = DDPG(dims, 1.0, cfg, gamma=0.98)
    rng = np.random.default_rng(0)
    b = cfg.batch_size
    batch = {
        "o": rng.normal(size=(b, 25)),
        "g": rng.normal(size=(b, 3)),
        "u": rng.uniform(-1, 1, (b, 4)),
        "r": -rng.integers(0, 2, b).astype(np.float32),
        "o_2": rng.normal(size=(b, 25)),
        "is_demo": np.arange(b) >= b - cfg.demo_batch_size,
    }
    tensors = learner.prepare_batch(batch)
    for _ in range(20):
        learner._train_fused(*tensors)
    start = time.perf_counter()
    for _ in range(n):
        stats = learner._train_fused(*tensors)
    float(stats["critic_loss"])
    pure = n / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(n // 3):
        learner.train(batch)  # with NumPy normalisation and conversion, as in training
    full = (n // 3) / (time.perf_counter() - start)
    flops = update_flops(b, 25, 3, 4, cfg.hidden, cfg.layers)
    return {
        "batch_size": b,
        "updates_per_s_step_only": pure,
        "updates_per_s_with_prep": full,
        "gflop_per_update": flops / 1e9,
        "achieved_gflops": pure * flops / 1e9,
    }


def rollout_speed(episodes: int = 20) -> dict:
    from herdemos.env_info import EnvInfo
    from herdemos.environment import make_env
    from herdemos.policy import Policy
    from herdemos.rollout import PolicyActions, RolloutWorker

    env = make_env(ENV)
    info = EnvInfo.of(env, ENV)
    env.reset(seed=0)
    start = time.perf_counter()
    steps = episodes * info.horizon
    for _ in range(steps):
        env.step(env.action_space.sample())
    raw = steps / (time.perf_counter() - start)

    rng = np.random.default_rng(0)

    def layer(n_in, n_out):
        return [rng.normal(0, 0.1, (n_in, n_out)).astype(np.float32), np.zeros(n_out, np.float32)]

    policy = Policy(
        layer(28, 256) + layer(256, 256) + layer(256, 256) + layer(256, 4),
        layer(32, 256) + layer(256, 256) + layer(256, 256) + layer(256, 1),
        np.zeros(25),
        np.ones(25),
        np.zeros(3),
        np.ones(3),
        200.0,
        5.0,
        1.0,
    )
    envs = [make_env(ENV) for _ in range(2)]
    worker = RolloutWorker(envs, info, seed=0, rng=rng)
    actions = PolicyActions(policy, False, 0.1, 0.1, rng)
    worker.generate_rollouts(actions)
    start = time.perf_counter()
    for _ in range(episodes // 2):
        worker.generate_rollouts(actions)
    with_policy = episodes * info.horizon / (time.perf_counter() - start)
    return {
        "raw_env_steps_per_s": raw,
        "rollout_env_steps_per_s": with_policy,
        "rollout_fraction_of_raw": with_policy / raw,
    }


def epoch_split(num_cpu: int = 1, epochs: int = 2) -> dict:
    """Trains a short pick-and-place run with demos and reads its epoch time split."""
    from herdemos.logger import read_progress

    with tempfile.TemporaryDirectory() as tmp:
        logdir = Path(tmp) / "run"
        command = [
            sys.executable,
            str(ROOT / "experiment/train.py"),
            "--env",
            ENV,
            "--num_demo",
            "100",
            "--bc_loss",
            "1",
            "--q_filter",
            "1",
            "--n_epochs",
            str(epochs),
            "--logdir",
            str(logdir),
            "--num_cpu",
            str(num_cpu),
            "--quiet",
        ]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise HerdemosError(f"throughput run with --num_cpu {num_cpu} failed: {last}")
        rows = read_progress(logdir / "progress.csv")
    last = rows[-1]  # the first epoch includes tf.function tracing
    steps = last["total_env_steps"] - rows[-2]["total_env_steps"]
    split = {k: last[f"time/{k}"] for k in ("rollout", "sample", "update", "eval")}
    updates = 10 * 40  # n_cycles x n_batches per rank
    return {
        "num_cpu": num_cpu,
        "epoch_seconds": last["time/epoch"],
        "split_seconds": split,
        "split_fraction": {k: v / last["time/epoch"] for k, v in split.items()},
        "env_steps_per_s": steps / last["time/epoch"],
        "updates_per_s": updates / (split["update"] + split["sample"]),
    }


def throughput() -> dict:
    from herdemos.actor_critic import matmul_peak_gflops

    peak = matmul_peak_gflops()
    learner = learner_updates_per_second()
    rollout = rollout_speed()
    split = epoch_split()
    summary = {
        "matmul_peak_gflops": peak,
        "learner_updates_per_s": learner["updates_per_s_step_only"],
        "learner_fraction_of_peak": learner["achieved_gflops"] / peak,
        "rollout_fraction_of_raw": rollout["rollout_fraction_of_raw"],
        "epoch_seconds": split["epoch_seconds"],
    }
    return {
        "summary": {"throughput": summary},
        "learner": learner,
        "rollout": rollout,
        "epoch_split": split,
    }


def mpi_throughput() -> dict:
    one, two = epoch_split(1), epoch_split(2)
    summary = {
        f"{r['num_cpu']}_rank": {
            "env_steps_per_s": r["env_steps_per_s"],
            "updates_per_s": r["updates_per_s"],
        }
        for r in (one, two)
    }
    return {"summary": {"mpi-throughput": summary}, "one_rank": one, "two_ranks": two}


SUITES = {"throughput": throughput, "mpi-throughput": mpi_throughput}
