"""Assembly: a run's parts, built from its config, for the training loop to work on.

:func:`assemble` makes the envs, the HER sampler, the replay buffer R and the demo buffer R_D
(with the demos' mirror images), the resets to demo states with their checks, the learner and
the rollout workers. The loop in :mod:`herdemos.trainer` receives them and builds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from herdemos.config import Config
from herdemos.ddpg import DDPG, Dims
from herdemos.demos import DemoData
from herdemos.env_checks import check_against_env, mirror_reflections
from herdemos.env_info import EnvInfo, reward_fn_of, worst_step_reward
from herdemos.environment import EnvMaker
from herdemos.her import make_sample_her_transitions
from herdemos.memory_check import check_memory
from herdemos.parallel import Ranks
from herdemos.ragged import LENGTH
from herdemos.replay_buffer import EpisodeBuffer
from herdemos.rollout import DemoStarts, RolloutWorker
from herdemos.symmetry import with_reflections

# Roles in the seed entropy (seed, rank, role): independent streams for each purpose and rank.
TRAIN_ENVS, EVAL_ENVS, SAMPLING = 0, 1, 2

Sampler = Callable[..., dict[str, np.ndarray]]


@dataclass
class RunParts:
    """Everything the training loop works on.

    Attributes:
        config: the resolved configuration.
        info: what the learner reads from the env.
        rng: this rank's sampling stream (exploration, batches).
        envs, eval_envs: the training and the evaluation envs.
        sampler: the HER sampler of the replay buffer.
        buffer: the replay buffer R.
        demo_buffer: the demo buffer R_D (``None`` without demos).
        learner: the DDPG learner, identical on every rank.
        worker, evaluator: the exploring and the deterministic rollout workers.
        batch_size, demo_batch_size: this rank's share of the batch and of its demo rows.
    """

    config: Config
    info: EnvInfo
    rng: np.random.Generator
    envs: list[gym.Env]
    eval_envs: list[gym.Env]
    sampler: Sampler
    buffer: EpisodeBuffer
    demo_buffer: EpisodeBuffer | None
    learner: DDPG
    worker: RolloutWorker
    evaluator: RolloutWorker
    batch_size: int
    demo_batch_size: int


def episode_shapes(info: EnvInfo) -> dict[str, tuple[int, int]]:
    """The buffers' per-episode array shapes: ``o`` and ``ag`` have T+1 rows, the rest T."""
    horizon = info.horizon
    return {
        "o": (horizon + 1, info.dim_o),
        "ag": (horizon + 1, info.dim_g),
        "g": (horizon, info.dim_g),
        "u": (horizon, info.dim_u),
        "info_is_success": (horizon, 1),
    }


def assemble(
    config: Config,
    demos: DemoData | None,
    ranks: Ranks | None = None,
    log: Callable[[str], None] = print,
    make: EnvMaker | None = None,
) -> RunParts:
    """Builds every part of a run from its config.

    Args:
        config: the resolved configuration.
        demos: pre-loaded demonstrations (``None`` when ``num_demo == 0``).
        ranks: the MPI ranks of this job (a single process by default).
        log: where human-readable lines go (rank 0 only under MPI).
        make: makes the envs (by default from ``train.env`` and ``train.env_kwargs``).

    Raises:
        HerdemosError: the config or the demos do not fit the env
            (:func:`~herdemos.env_checks.check_against_env`), in one line.
    """
    ranks = ranks or Ranks(None)
    log = log if ranks.is_main else (lambda line: None)
    rank = ranks.rank
    t, d = config.train, config.ddpg
    # Ranks explore differently (own seeds) but start from identical networks (same TF seed).
    rng = np.random.default_rng((t.seed, rank, SAMPLING))
    make = make or EnvMaker.of(t)
    envs = [make() for _ in range(t.rollout_batch_size)]
    eval_envs = [make() for _ in range(t.n_test_rollouts)]
    info = EnvInfo.of(envs[0], t.env, make.name)
    check_memory(config, info)
    check_against_env(config, envs[0], demos, make.name)
    horizon = info.horizon
    gamma = d.gamma if d.gamma is not None else 1.0 - 1.0 / horizon
    sampler = make_sample_her_transitions(
        config.her.replay_strategy, config.her.replay_k, reward_fn_of(envs[0])
    )
    shapes = episode_shapes(info)
    capacity = max(1, t.buffer_size // horizon)
    buffer = EpisodeBuffer(shapes, capacity, sampler)
    dims = Dims(info.dim_o, info.dim_g, info.dim_u)
    learner = DDPG(
        dims,
        info.max_u,
        d,
        gamma,
        seed=t.seed,
        reduce_sum=ranks.reduce_sum,
        ranks=ranks.size,
        worst_reward=worst_step_reward(envs[0]),
    )
    learner.sync_from_main(ranks.broadcast)

    demo_buffer: EpisodeBuffer | None = None
    demo_starts = None
    if demos is not None:
        demo_buffer = fill_demo_buffer(config, demos, envs[0], info, sampler, learner, rng, log)
        if config.demo.demo_reset_prob > 0:
            demo_starts = DemoStarts.of_successful(
                demos.sim_state,
                demos.episodes["g"],
                demos.episodes["info_is_success"],
                demos.episodes.get(LENGTH),
            )

    worker = RolloutWorker(
        envs,
        info,
        seed=(t.seed, rank, TRAIN_ENVS),
        rng=rng,
        demo_starts=demo_starts,
        demo_reset_prob=config.demo.demo_reset_prob,
    )
    # Evaluation seeds are disjoint from training seeds and fixed per run.
    evaluator = RolloutWorker(
        eval_envs,
        info,
        seed=(t.seed, rank, EVAL_ENVS),
        rng=rng,
    )
    return RunParts(
        config=config,
        info=info,
        rng=rng,
        envs=envs,
        eval_envs=eval_envs,
        sampler=sampler,
        buffer=buffer,
        demo_buffer=demo_buffer,
        learner=learner,
        worker=worker,
        evaluator=evaluator,
        # Each rank samples its share of the batch; averaged gradients equal one full batch.
        batch_size=max(1, d.batch_size // ranks.size),
        demo_batch_size=max(1, d.demo_batch_size // ranks.size),
    )


def fill_demo_buffer(
    config: Config,
    demos: DemoData,
    env: gym.Env,
    info: EnvInfo,
    demo_sampler: Sampler,
    learner: DDPG,
    rng: np.random.Generator,
    log: Callable[[str], None],
) -> EpisodeBuffer:
    """The demo buffer R_D, holding the demos (and their mirror images with ``--demo_mirror``);
    the learner's normalisers see the demo rows too."""
    episodes = demos.episodes
    if config.demo.demo_mirror:
        planes = config.demo.demo_mirror_planes
        episodes = with_reflections(episodes, mirror_reflections(env, config.train.env, planes))
        log(
            f"demo buffer: {demos.n_episodes} demos and their mirror images ({planes}), "
            f"{len(episodes['u'])} episodes"
        )
    n_demo_episodes = len(episodes["u"])
    demo_buffer = EpisodeBuffer(
        episode_shapes(info), n_demo_episodes, demo_sampler, lengths=LENGTH in episodes
    )
    demo_buffer.store_episodes(episodes)
    # The seed normalises with demo statistics too, so demo states are in range early;
    # the goals are relabelled as the learner will see the demo rows. As many rows are drawn
    # as the demos hold steps (N * T for full episodes).
    learner.update_normalizers(demo_sampler(episodes, demo_buffer.n_transitions_stored, rng))
    return demo_buffer
