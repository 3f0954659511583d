"""Rollout workers: drive a batch of envs for one episode and return it in buffer format.

The training worker explores; the evaluator is a second worker with ``exploit=True`` whose
actions are deterministic and whose episodes always start from normal resets. This is the one
episode loop of herdemos: ``play.py``, the held-out evaluation and the analysis tools run their
episodes through :func:`run_episodes`, watching each step through a :data:`StepHook`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import gymnasium as gym
import numpy as np

from herdemos.env_info import EnvInfo
from herdemos.environment import physics_warnings
from herdemos.policy import Policy
from herdemos.ragged import LENGTH, final_success, sample_valid_steps
from herdemos.sim_state import get_sim_state, set_sim_state

ObsBatch = dict[str, np.ndarray]


class ActionSource(Protocol):
    """Anything that maps a batch of goal-env observations to a batch of actions."""

    def reset(self, obs: ObsBatch) -> None: ...

    def __call__(self, obs: ObsBatch) -> np.ndarray: ...


@dataclass
class PolicyActions:
    """Acts with a :class:`Policy`: exploring (noise + random actions) or deterministic."""

    policy: Policy
    exploit: bool
    noise_eps: float
    random_eps: float
    rng: np.random.Generator

    def reset(self, obs: ObsBatch) -> None:
        """Policies keep no per-episode state."""

    def __call__(self, obs: ObsBatch) -> np.ndarray:
        o, g = obs["observation"], obs["desired_goal"]
        if self.exploit:
            return self.policy.deterministic(o, g)
        return self.policy.explore(o, g, self.noise_eps, self.random_eps, self.rng)

    @classmethod
    def exploiting(cls, policy: Policy) -> PolicyActions:
        """The deterministic actions of evaluation, play and analysis (no random stream used)."""
        return cls(policy, True, 0.0, 0.0, np.random.default_rng(0))


@dataclass(frozen=True)
class DemoStarts:
    """Simulator states and goals of demo episodes, for the paper's resets to demo states."""

    sim_state: np.ndarray  # (N, T+1, state_dim)
    goal: np.ndarray  # (N, T, dim_g)
    length: np.ndarray | None = None  # (N,) steps per episode; None: T each

    @classmethod
    def of_successful(
        cls,
        sim_state: np.ndarray,
        goal: np.ndarray,
        success: np.ndarray,
        length: np.ndarray | None = None,
    ) -> DemoStarts:
        """Starts from the demo episodes that end in success (``success``: (N, T, 1), the
        env's ``is_success`` per step, read at each episode's last valid step), as the paper
        resets "using states and goals from successful demonstrations": a failed noisy demo can
        pass through states from which its goal is out of reach (a toppled tower, a block
        knocked off the table). If no episode succeeded, all of them are used rather than none."""
        flags = {"info_is_success": success}
        if length is not None:
            flags[LENGTH] = length
        keep = final_success(flags) > 0.5
        if not keep.any():
            keep[:] = True
        return cls(sim_state[keep], goal[keep], None if length is None else length[keep])

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """A uniformly chosen (episode, step) state of the demos, with that episode's goal:
        with lengths, uniform over the valid states ``t < length``, as the HER sampler draws."""
        if self.length is not None:
            eps, ts = sample_valid_steps(self.length, 1, rng)
            ep, t = int(eps[0]), int(ts[0])
        else:
            n, horizon = self.goal.shape[:2]
            ep, t = int(rng.integers(n)), int(rng.integers(horizon))
        return self.sim_state[ep, t], self.goal[ep, t]


@dataclass(frozen=True)
class Step:
    """One lockstep step of every env, for callers that watch episodes as they run.

    The observations are the envs' own (float64 for MuJoCo envs), not the float32 copies of the
    episode batch, so a tool that thresholds positions sees exactly what the env reported.
    """

    t: int
    obs: ObsBatch  # what the actions were chosen from (the reset observation at t = 0)
    u: np.ndarray  # (n, dim_u): the actions taken, after clipping to the action box
    next_obs: ObsBatch  # what the step returned
    rewards: np.ndarray  # (n,) float64
    infos: list[dict]  # the step's info dict per env
    envs: list[gym.Env]  # to render a frame after the step


StepHook = Callable[[Step], None]


@dataclass
class Rollout:
    """One batch of episodes plus the statistics the logger wants."""

    episodes: dict[str, np.ndarray]
    success_rate: float
    mean_return: float
    mean_q: float | None
    n_demo_resets: int
    n_discarded: int = 0  # episodes dropped for a physics blow-up or a non-finite state
    n_steps: int = 0  # env steps taken, discarded episodes included
    valid: np.ndarray | None = None  # (n_envs,) bool: the envs whose episodes are in `episodes`
    n_terminated: int = 0  # episodes whose env terminated before step T (held there)


class RolloutWorker:
    """Steps ``len(envs)`` envs in lockstep for exactly T steps per episode.

    Args:
        envs: goal envs of one id (each with its own RNG stream).
        info: the envs' dimensions and horizon T.
        seed: entropy for the envs' seeds (an int or a tuple such as ``(seed, rank, role)``):
            ``SeedSequence`` derives one independent seed per env, so runs with nearby seeds
            share no env streams. Envs are seeded at their first reset only, so
            later episodes continue the envs' own random streams.
        rng: source of randomness for demo resets.
        demo_starts: demo states for resets (training worker only).
        demo_reset_prob: probability that an episode starts from a demo state.
        record_sim_state: also return the simulator state at every step (demo generation).
        drop_blowups: drop episodes with a physics blow-up or a non-finite state (they would
            poison the replay buffer). Evaluation and analysis keep them: every episode they
            were asked for counts, as the failure it is.
    """

    def __init__(
        self,
        envs: list[gym.Env],
        info: EnvInfo,
        seed: int | tuple[int, ...],
        rng: np.random.Generator,
        demo_starts: DemoStarts | None = None,
        demo_reset_prob: float = 0.0,
        record_sim_state: bool = False,
        drop_blowups: bool = True,
    ) -> None:
        self.envs = envs
        self.info = info
        self.rng = rng
        self.demo_starts = demo_starts
        self.demo_reset_prob = demo_reset_prob if demo_starts is not None else 0.0
        self.record_sim_state = record_sim_state
        self.drop_blowups = drop_blowups
        entropy = np.random.SeedSequence(seed).generate_state(len(envs))
        self._seeds: list[int | None] = [int(s) for s in entropy]
        self.n_episodes = 0

    def pending_seeds(self) -> list[int | None]:
        """Seeds not yet used by a first reset (None once used); part of a checkpoint."""
        return list(self._seeds)

    def set_pending_seeds(self, seeds: list[int | None]) -> None:
        if len(seeds) != len(self.envs):
            raise ValueError(f"{len(seeds)} seeds for {len(self.envs)} envs")
        self._seeds = list(seeds)

    def _reset(self, index: int, seed: int | None) -> tuple[dict[str, np.ndarray], bool]:
        env = self.envs[index]
        obs, _ = env.reset(seed=self._seeds[index] if seed is None else seed)
        self._seeds[index] = None
        if self.demo_starts is not None and self.rng.random() < self.demo_reset_prob:
            state, goal = self.demo_starts.sample(self.rng)
            return set_sim_state(env, state, goal), True
        return obs, False

    def generate_rollouts(
        self,
        actions: ActionSource,
        q_fn: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
        seeds: list[int] | None = None,
        on_step: StepHook | None = None,
    ) -> Rollout:
        """Runs one episode in every env and returns them stacked along axis 0.

        Args:
            actions: the policy (or scripted controller) to act with.
            q_fn: if given, ``Q(o, g, u)`` is averaged over the episode (the test/mean_Q log).
            seeds: reset seeds, one per env, for this episode only (numbered evaluation
                episodes); by default envs continue their own random streams.
            on_step: called after every step (filming, per-step analysis).
        """
        n, horizon = len(self.envs), self.info.horizon
        if seeds is not None and len(seeds) != n:
            raise ValueError(f"{len(seeds)} seeds for {n} envs")
        starts = [self._reset(i, None if seeds is None else seeds[i]) for i in range(n)]
        warnings_before = [physics_warnings(env) for env in self.envs]
        obs = {k: np.stack([s[0][k] for s in starts]) for k in starts[0][0]}
        o = np.empty((n, horizon + 1, self.info.dim_o), np.float32)
        ag = np.empty((n, horizon + 1, self.info.dim_g), np.float32)
        g = np.empty((n, horizon, self.info.dim_g), np.float32)
        u = np.empty((n, horizon, self.info.dim_u), np.float32)
        success = np.zeros((n, horizon, 1), np.float32)
        rewards = np.zeros((n, horizon), np.float32)
        states = [] if self.record_sim_state else None
        q_sum = 0.0
        # HER's goal envs never terminate: every episode has T steps. An env that does is not
        # stepped again; it stays in its final state, with that step's reward and info, until
        # step T, as an absorbing state (see docs/envs.md#your-own-env).
        ended: dict[int, tuple] = {}
        actions.reset(obs)
        for t in range(horizon):
            o[:, t], ag[:, t], g[:, t] = (
                obs["observation"],
                obs["achieved_goal"],
                obs["desired_goal"],
            )
            if states is not None:
                states.append([get_sim_state(env) for env in self.envs])
            u[:, t] = np.clip(actions(obs), -self.info.max_u, self.info.max_u)
            if q_fn is not None:
                q_sum += float(np.mean(q_fn(o[:, t], g[:, t], u[:, t])))
            steps = [
                ended[i] if i in ended else env.step(u[i, t]) for i, env in enumerate(self.envs)
            ]
            for i, step in enumerate(steps):
                if step[2] and i not in ended:  # terminated: held there until step T
                    ended[i] = (step[0], step[1], True, False, step[4])
            next_obs = {k: np.stack([s[0][k] for s in steps]) for k in steps[0][0]}
            step_rewards = np.array([float(s[1]) for s in steps])
            rewards[:, t] = step_rewards
            success[:, t, 0] = [float(s[4].get("is_success", 0.0)) for s in steps]
            if on_step is not None:
                infos = [s[4] for s in steps]
                on_step(Step(t, obs, u[:, t], next_obs, step_rewards, infos, self.envs))
            obs = next_obs
        o[:, horizon], ag[:, horizon] = obs["observation"], obs["achieved_goal"]
        episodes = {"o": o, "ag": ag, "g": g, "u": u, "info_is_success": success}
        if states is not None:
            states.append([get_sim_state(env) for env in self.envs])
            episodes["sim_state"] = np.stack(states, axis=1)
        # A physics blow-up (MuJoCo's bad-acceleration warning, which also resets the
        # simulation) or a non-finite state would poison the replay buffer: drop the episode.
        warnings_after = [physics_warnings(env) for env in self.envs]
        valid = np.array(
            [after == before for after, before in zip(warnings_after, warnings_before, strict=True)]
        )
        for key in ("o", "ag", "g"):
            valid &= np.isfinite(episodes[key]).all(axis=(1, 2))
        if not self.drop_blowups:
            valid[:] = True
        if not valid.all():
            episodes = {k: v[valid] for k, v in episodes.items()}
        self.n_episodes += n
        kept = max(int(valid.sum()), 1)
        return Rollout(
            episodes=episodes,
            success_rate=float(episodes["info_is_success"][:, -1, 0].sum() / kept),
            mean_return=float(rewards[valid].sum() / kept),
            mean_q=q_sum / horizon if q_fn is not None else None,
            n_demo_resets=sum(int(s[1]) for s in starts),
            n_discarded=int((~valid).sum()),
            n_steps=n * horizon,
            valid=valid,
            n_terminated=len(ended),
        )


def run_episodes(
    env: gym.Env,
    info: EnvInfo,
    actions: ActionSource,
    first_seed: int,
    n_episodes: int,
    on_step: StepHook | None = None,
) -> Iterator[Rollout]:
    """Episodes seeded ``first_seed``, ``first_seed + 1``, ... on one env, one at a time: the
    evaluator's loop for numbered episodes (play, held-out evaluation, analysis), so that the
    same seed is the same episode in every tool. Each yields a one-episode :class:`Rollout`
    that keeps blow-ups (see ``drop_blowups``).
    """
    worker = RolloutWorker(
        [env], info, first_seed, np.random.default_rng(first_seed), drop_blowups=False
    )
    for i in range(n_episodes):
        yield worker.generate_rollouts(actions, seeds=[first_seed + i], on_step=on_step)
