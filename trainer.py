"""The training loop: epochs x cycles x (rollout, store, updates, target update), then evaluation,
logging and policy saving, as in baselines HER."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from herdemos.ddpg import DDPG, Dims
from herdemos.demos import DemoData, load_demos
from herdemos.environment import EnvInfo, has_sim_state, make_env, reward_fn_of
from herdemos.experiment.config import Config
from herdemos.her import make_sample_her_transitions
from herdemos.logger import ProgressLog, epoch_line
from herdemos.policy import Policy
from herdemos.replay_buffer import EpisodeBuffer
from herdemos.rollout import DemoStarts, PolicyActions, RolloutWorker
from herdemos.util import HerdemosError

BATCH_KEYS = ("o", "g", "u", "r", "o_2")


@dataclass
class EpochTimes:
    """Seconds spent in each part of an epoch (for the log and the throughput benchmark)."""

    rollout: float = 0.0
    sample: float = 0.0
    update: float = 0.0
    eval: float = 0.0


def concat_batches(agent: dict[str, np.ndarray], demo: dict[str, np.ndarray] | None):
    """Agent rows ++ demo rows, with the ``is_demo`` column the learner reads."""
    batch = {k: agent[k] for k in BATCH_KEYS}
    batch["is_demo"] = np.zeros(agent["u"].shape[0], bool)
    if demo is None:
        return batch
    for k in BATCH_KEYS:
        batch[k] = np.concatenate([batch[k], demo[k]])
    batch["is_demo"] = np.concatenate([batch["is_demo"], np.ones(demo["u"].shape[0], bool)])
    return batch


@dataclass
class TrainingState:
    """Bookkeeping that a checkpoint must carry besides networks and buffers."""

    epoch: int = 0  # epochs completed
    best_success: float = -math.inf
    total_env_steps: int = 0
    start_time: float = field(default_factory=time.time)
    elapsed_before: float = 0.0  # wall seconds of earlier (resumed) sessions


class Trainer:
    """Builds every part of a run from a :class:`Config` and runs the loop.

    Args:
        config: the resolved configuration.
        logdir: run folder (params.json, progress.csv, policies).
        demos: pre-loaded demonstrations (``None`` when ``num_demo == 0``).
        log: where human-readable lines go.
    """

    def __init__(
        self,
        config: Config,
        logdir: Path,
        demos: DemoData | None,
        log: Callable[[str], None] = print,
    ) -> None:
        self.config = config
        self.logdir = Path(logdir)
        self.log = log
        t, d = config.train, config.ddpg
        self.rng = np.random.default_rng(t.seed)
        import keras

        keras.utils.set_random_seed(t.seed)

        self.envs = [make_env(t.env) for _ in range(t.rollout_batch_size)]
        self.eval_envs = [make_env(t.env) for _ in range(t.n_test_rollouts)]
        self.info = EnvInfo.of(self.envs[0], t.env)
        horizon = self.info.horizon
        self.gamma = d.gamma if d.gamma is not None else 1.0 - 1.0 / horizon
        self.sampler = make_sample_her_transitions(
            config.her.replay_strategy, config.her.replay_k, reward_fn_of(self.envs[0])
        )
        self.shapes = {
            "o": (horizon + 1, self.info.dim_o),
            "ag": (horizon + 1, self.info.dim_g),
            "g": (horizon, self.info.dim_g),
            "u": (horizon, self.info.dim_u),
            "info_is_success": (horizon, 1),
        }
        capacity = max(1, t.buffer_size // horizon)
        self.buffer = EpisodeBuffer(self.shapes, capacity, self.sampler)
        dims = Dims(self.info.dim_o, self.info.dim_g, self.info.dim_u)
        self.learner = DDPG(dims, self.info.max_u, d, self.gamma)

        self.demo_buffer: EpisodeBuffer | None = None
        demo_starts = None
        if demos is not None:
            self.demo_buffer = EpisodeBuffer(self.shapes, demos.n_episodes, self.sampler)
            self.demo_buffer.store_episodes(demos.episodes)
            # The seed normalises with demo statistics too, so demo states are in range early.
            self.learner.update_normalizers(
                self.sampler(demos.episodes, demos.n_episodes * horizon, self.rng)
            )
            if config.demo.demo_reset_prob > 0:
                if demos.sim_state is None or not has_sim_state(self.envs[0]):
                    raise HerdemosError(
                        "--demo_reset_prob needs demos with simulator states ('sim_state') and "
                        "a MuJoCo env; regenerate the demos with data_generation/"
                    )
                demo_starts = DemoStarts(demos.sim_state, demos.episodes["g"])

        self.worker = RolloutWorker(
            self.envs,
            self.info,
            seed=t.seed,
            rng=self.rng,
            demo_starts=demo_starts,
            demo_reset_prob=config.demo.demo_reset_prob,
        )
        # Evaluation seeds are disjoint from training seeds and fixed per run.
        self.evaluator = RolloutWorker(
            self.eval_envs, self.info, seed=t.seed + 10_000, rng=self.rng
        )
        self.state = TrainingState()
        self.demo_resets = 0  # episodes of the current epoch that started from a demo state

    # ----- pieces of the loop -----
    def policy(self, success_rate: float | None = None) -> Policy:
        """A plain-data snapshot of the current actor and critic."""
        ln = self.learner
        return Policy(
            actor_weights=ln.actor_weights(),
            critic_weights=ln.critic_weights(),
            o_mean=ln.o_stats.mean.copy(),
            o_std=ln.o_stats.std.copy(),
            g_mean=ln.g_stats.mean.copy(),
            g_std=ln.g_stats.std.copy(),
            clip_obs=self.config.ddpg.clip_obs,
            norm_clip=self.config.ddpg.norm_clip,
            max_u=self.info.max_u,
            metadata={
                "env_id": self.info.env_id,
                "dim_o": self.info.dim_o,
                "dim_g": self.info.dim_g,
                "dim_u": self.info.dim_u,
                "T": self.info.horizon,
                "epoch": self.state.epoch,
                "success_rate": success_rate,
                "config": self.config.to_dict(),
            },
        )

    def sample_batch(self) -> dict[str, np.ndarray]:
        """``batch_size - demo_batch_size`` agent rows plus ``demo_batch_size`` demo rows."""
        d = self.config.ddpg
        if self.demo_buffer is None:
            return concat_batches(self.buffer.sample(d.batch_size, self.rng), None)
        agent = self.buffer.sample(d.batch_size - d.demo_batch_size, self.rng)
        demo = self.demo_buffer.sample(d.demo_batch_size, self.rng)
        return concat_batches(agent, demo)

    def run_cycle(self, times: EpochTimes, losses: list[dict[str, float]]) -> float:
        """Collect, store, update, move targets; returns the training success rate."""
        t = self.config.train
        start = time.perf_counter()
        actions = PolicyActions(self.policy(), False, t.noise_eps, t.random_eps, self.rng)
        rollout = self.worker.generate_rollouts(actions)
        self.buffer.store_episodes(rollout.episodes)
        n_new = rollout.episodes["u"].shape[0] * self.info.horizon
        self.learner.update_normalizers(self.sampler(rollout.episodes, n_new, self.rng))
        self.state.total_env_steps += n_new
        times.rollout += time.perf_counter() - start
        for _ in range(t.n_batches):
            start = time.perf_counter()
            batch = self.sample_batch()
            mid = time.perf_counter()
            losses.append(self.learner.train(batch))
            times.sample += mid - start
            times.update += time.perf_counter() - mid
        self.learner.update_target_net()
        self.demo_resets += rollout.n_demo_resets
        return rollout.success_rate

    def evaluate(self) -> tuple[float, float]:
        """Deterministic episodes from normal resets: ``(success rate, mean Q)``."""
        policy = self.policy()
        actions = PolicyActions(policy, True, 0.0, 0.0, self.rng)
        rollout = self.evaluator.generate_rollouts(actions, q_fn=policy.q_value)
        return rollout.success_rate, float(rollout.mean_q)

    def run_epoch(self, on_cycle: Callable[[], None] | None = None) -> dict[str, float]:
        """One epoch; returns its progress row."""
        t = self.config.train
        times, losses, train_success = EpochTimes(), [], []
        self.demo_resets = 0
        epoch_start = time.perf_counter()
        for _ in range(t.n_cycles):
            train_success.append(self.run_cycle(times, losses))
            if on_cycle is not None:
                on_cycle()
        start = time.perf_counter()
        test_success, test_q = self.evaluate()
        times.eval = time.perf_counter() - start
        self.state.epoch += 1
        row: dict[str, float] = {
            "epoch": self.state.epoch,
            "total_env_steps": self.state.total_env_steps,
            "wall_time": self.state.elapsed_before + time.time() - self.state.start_time,
            "test/success_rate": test_success,
            "test/mean_Q": test_q,
            "train/success_rate": float(np.mean(train_success)),
        }
        for key in losses[0] if losses else []:
            row[f"train/{key}"] = float(np.mean([x[key] for x in losses]))
        if not self.config.ddpg.bc_loss:
            row.pop("train/bc_loss", None)
            row.pop("train/q_filter_frac", None)
        row["train/demo_resets"] = self.demo_resets
        row["buffer/episodes"] = self.buffer.size
        ln = self.learner
        row["stats_o/mean"] = float(ln.o_stats.mean.mean())
        row["stats_o/std"] = float(ln.o_stats.std.mean())
        row["stats_g/mean"] = float(ln.g_stats.mean.mean())
        row["stats_g/std"] = float(ln.g_stats.std.mean())
        row["time/rollout"] = times.rollout
        row["time/sample"] = times.sample
        row["time/update"] = times.update
        row["time/eval"] = times.eval
        row["time/epoch"] = time.perf_counter() - epoch_start
        return row

    def save_policies(self, success: float) -> None:
        """latest every epoch; best when test success ties or beats the best so far; periodic."""
        policy = self.policy(success)
        policy.save(self.logdir / "policy_latest.pkl")
        if success >= self.state.best_success:
            self.state.best_success = success
            policy.save(self.logdir / "policy_best.pkl")
        interval = self.config.train.policy_save_interval
        if interval > 0 and self.state.epoch % interval == 0:
            policy.save(self.logdir / f"policy_{self.state.epoch}.pkl")

    def train(self, progress: ProgressLog, show_bar: bool = True) -> None:
        """Runs epochs until ``n_epochs`` are complete."""
        from tqdm import tqdm

        t = self.config.train
        bar = tqdm(
            total=t.n_epochs * t.n_cycles,
            initial=self.state.epoch * t.n_cycles,
            unit="cycle",
            disable=None if show_bar else True,
            dynamic_ncols=True,
            leave=False,
        )
        try:
            while self.state.epoch < t.n_epochs:
                bar.set_description(f"epoch {self.state.epoch + 1}/{t.n_epochs}")
                row = self.run_epoch(on_cycle=lambda: bar.update(1))
                progress.write(row)
                self.save_policies(row["test/success_rate"])
                line = epoch_line(row, t.n_epochs)
                if bar.disable:
                    self.log(line)
                else:
                    bar.write(line)
        finally:
            bar.close()


def load_run_demos(config: Config, info: EnvInfo, log: Callable[[str], None]) -> DemoData | None:
    """The demos a run asks for: ``--demo_file``, or cached scripted demos, or none."""
    demo = config.demo
    if demo.num_demo <= 0:
        return None
    if demo.demo_file:
        data = load_demos(demo.demo_file, info, demo.num_demo)
        log(f"loaded {data.n_episodes} demos from {demo.demo_file}")
        log(f"demo success rate {data.success_rate:.2f}")
        return data
    from herdemos.data_generation.scripted_demos import cached_default_demos

    data, _ = cached_default_demos(info.env_id, demo.num_demo, info, log)
    return data
