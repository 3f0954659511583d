"""The training loop: epochs x cycles x (rollout, store, updates, target update), then evaluation,
logging and policy saving, as in baselines HER."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from herdemos.checkpoint import (
    CHECKPOINT_FORMAT,
    folder_size,
    read_checkpoint_state,
    same_run_config,
    state_file_name,
    write_checkpoint,
)
from herdemos.config import Config
from herdemos.ddpg import DDPG, Dims
from herdemos.demos import DemoData
from herdemos.env_checks import check_against_env, mirror_reflections
from herdemos.env_info import EnvInfo, reward_fn_of, worst_step_reward
from herdemos.environment import make_env
from herdemos.her import make_sample_her_transitions
from herdemos.logger import ProgressLog, epoch_line
from herdemos.parallel import Workers
from herdemos.policy import Policy
from herdemos.replay_buffer import EpisodeBuffer
from herdemos.rollout import DemoStarts, PolicyActions, RolloutWorker
from herdemos.sim_state import env_rng_state, set_env_rng_state
from herdemos.symmetry import with_reflections
from herdemos.util import HerdemosError

BATCH_KEYS = ("o", "g", "u", "r", "o_2")
# Roles in the seed entropy (seed, rank, role): independent streams for each purpose and rank.
TRAIN_ENVS, EVAL_ENVS, SAMPLING = 0, 1, 2


class TrainingDiverged(HerdemosError):
    """A loss, parameter or observation became NaN or Inf; the last good checkpoint is kept."""


@dataclass
class EpochProgress:
    """What the current, unfinished epoch has accumulated; checkpointed so that a run stopped
    mid-epoch resumes at the next cycle."""

    cycle: int = 0  # cycles completed in this epoch
    train_success: list[float] = field(default_factory=list)
    loss_sums: dict[str, float] = field(default_factory=dict)
    n_updates: int = 0
    demo_resets: int = 0
    discarded_episodes: int = 0
    rollout_time: float = 0.0
    sample_time: float = 0.0
    update_time: float = 0.0


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


def rank_loss_means(
    loss_sums: dict[str, float], n_updates: int, ranks: int, logs_bc: bool
) -> dict[str, float]:
    """This rank's per-update loss means, scaled so that their mean over the ranks is the
    number one process training on the whole batch would log.

    ``bc_loss`` is a *sum* over this rank's share of the demo rows, so N ranks' mean is 1/N of
    the whole batch's sum; it is scaled by N. The other losses are means and need no scaling.
    ``bc_loss`` and ``q_filter_frac`` are left out when no BC loss is trained (they are 0).
    """
    means = {}
    for key, total in loss_sums.items():
        if logs_bc or key not in ("bc_loss", "q_filter_frac"):
            scale = ranks if key == "bc_loss" else 1
            means[key] = total / max(n_updates, 1) * scale
    return means


@dataclass
class TrainingState:
    """Bookkeeping that a checkpoint must carry besides networks and buffers."""

    epoch: int = 0  # epochs completed
    best_success: float = -1.0  # below any success rate, so epoch 1 always saves a best policy
    total_env_steps: int = 0
    start_time: float = field(default_factory=time.time)
    elapsed_before: float = 0.0  # wall seconds of earlier (resumed) sessions

    def wall_time(self) -> float:
        return self.elapsed_before + time.time() - self.start_time


class Trainer:
    """Builds every part of a run from a :class:`Config` and runs the loop.

    Args:
        config: the resolved configuration.
        logdir: run folder (params.json, progress.csv, policies).
        demos: pre-loaded demonstrations (``None`` when ``num_demo == 0``).
        log: where human-readable lines go (rank 0 only under MPI).
        workers: the MPI ranks of this job (a single process by default).
    """

    def __init__(
        self,
        config: Config,
        logdir: Path,
        demos: DemoData | None,
        log: Callable[[str], None] = print,
        workers: Workers | None = None,
    ) -> None:
        self.config = config
        self.logdir = Path(logdir)
        self.workers = workers or Workers(None)
        self.log = log if self.workers.is_main else (lambda line: None)
        rank = self.workers.rank
        t, d = config.train, config.ddpg
        # Ranks explore differently (own seeds) but start from identical networks (same TF seed).
        self.rng = np.random.default_rng((t.seed, rank, SAMPLING))
        self.envs = [make_env(t.env) for _ in range(t.rollout_batch_size)]
        self.eval_envs = [make_env(t.env) for _ in range(t.n_test_rollouts)]
        self.info = EnvInfo.of(self.envs[0], t.env)
        check_against_env(config, self.envs[0], demos)
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
        self.learner = DDPG(
            dims,
            self.info.max_u,
            d,
            self.gamma,
            seed=t.seed,
            reduce_sum=self.workers.reduce_sum,
            ranks=self.workers.size,
            worst_reward=worst_step_reward(self.envs[0]),
        )
        self.learner.sync_from_main(self.workers.broadcast)
        # Each rank samples its share of the batch; averaged gradients equal one full batch.
        self.batch_size = max(1, d.batch_size // self.workers.size)
        self.demo_batch_size = max(1, d.demo_batch_size // self.workers.size)

        self.demo_buffer: EpisodeBuffer | None = None
        demo_starts = None
        if demos is not None:
            demo_sampler = self.sampler
            episodes = demos.episodes
            if config.demo.demo_mirror:
                planes = config.demo.demo_mirror_planes
                episodes = with_reflections(
                    episodes, mirror_reflections(self.envs[0], t.env, planes)
                )
                self.log(
                    f"demo buffer: {demos.n_episodes} demos and their mirror images ({planes}), "
                    f"{len(episodes['u'])} episodes"
                )
            n_demo_episodes = len(episodes["u"])
            self.demo_buffer = EpisodeBuffer(self.shapes, n_demo_episodes, demo_sampler)
            self.demo_buffer.store_episodes(episodes)
            # The seed normalises with demo statistics too, so demo states are in range early;
            # the goals are relabelled as the learner will see the demo rows.
            self.learner.update_normalizers(
                demo_sampler(episodes, n_demo_episodes * horizon, self.rng)
            )
            if config.demo.demo_reset_prob > 0:
                demo_starts = DemoStarts.of_successful(
                    demos.sim_state, demos.episodes["g"], demos.episodes["info_is_success"]
                )

        self.worker = RolloutWorker(
            self.envs,
            self.info,
            seed=(t.seed, rank, TRAIN_ENVS),
            rng=self.rng,
            demo_starts=demo_starts,
            demo_reset_prob=config.demo.demo_reset_prob,
        )
        # Evaluation seeds are disjoint from training seeds and fixed per run.
        self.evaluator = RolloutWorker(
            self.eval_envs,
            self.info,
            seed=(t.seed, rank, EVAL_ENVS),
            rng=self.rng,
        )
        self.state = TrainingState()
        self.epoch_progress = EpochProgress()

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
        if self.demo_buffer is None:
            return concat_batches(self.buffer.sample(self.batch_size, self.rng), None)
        agent = self.buffer.sample(self.batch_size - self.demo_batch_size, self.rng)
        demo = self.demo_buffer.sample(self.demo_batch_size, self.rng)
        return concat_batches(agent, demo)

    def run_cycle(self) -> None:
        """Collect, store, update, move targets; accumulates into ``self.epoch_progress``."""
        t, ep = self.config.train, self.epoch_progress
        start = time.perf_counter()
        actions = PolicyActions(self.policy(), False, t.noise_eps, t.random_eps, self.rng)
        rollout = self.worker.generate_rollouts(actions)
        ep.rollout_time += time.perf_counter() - start
        ep.discarded_episodes += rollout.n_discarded
        n_new = rollout.episodes["u"].shape[0] * self.info.horizon
        if n_new > 0:
            self.buffer.store_episodes(rollout.episodes)
            ep.train_success.append(rollout.success_rate)
        # Called on every rank every cycle (even with nothing new): the stats update is collective.
        self.learner.update_normalizers(
            self.sampler(rollout.episodes, n_new, self.rng) if n_new > 0 else None
        )
        self.state.total_env_steps += rollout.n_steps * self.workers.size
        n_batches = 0 if self.workers.any(self.buffer.size == 0) else t.n_batches
        for _ in range(n_batches):
            start = time.perf_counter()
            batch = self.sample_batch()
            mid = time.perf_counter()
            stats = self.learner.train(batch)
            ep.sample_time += mid - start
            ep.update_time += time.perf_counter() - mid
            for key, value in stats.items():
                ep.loss_sums[key] = ep.loss_sums.get(key, 0.0) + value
            ep.n_updates += 1
        # Decided collectively, so that no rank waits forever in an all-reduce.
        bad = [k for k, v in ep.loss_sums.items() if not math.isfinite(v)]
        if self.workers.any(bool(bad)):
            name = bad[0] if bad else "a loss on another rank"
            raise TrainingDiverged(f"epoch {self.state.epoch + 1}: {name} is NaN or Inf")
        self.learner.update_target_net()
        ep.demo_resets += rollout.n_demo_resets
        ep.cycle += 1

    def evaluate(self) -> tuple[float, float]:
        """Deterministic episodes from normal resets: ``(success rate, mean Q)``."""
        policy = self.policy()
        actions = PolicyActions(policy, True, 0.0, 0.0, self.rng)
        rollout = self.evaluator.generate_rollouts(actions, q_fn=policy.q_value)
        return rollout.success_rate, float(rollout.mean_q)

    def finish_epoch(self) -> dict[str, float]:
        """Evaluates, closes the epoch's accounting and returns its progress row."""
        ep = self.epoch_progress
        start = time.perf_counter()
        test_success, test_q = self.evaluate()
        mean = self.workers.mean
        eval_time = time.perf_counter() - start
        bad = self.learner.non_finite_parameter()
        if bad is not None:
            raise TrainingDiverged(f"epoch {self.state.epoch + 1}: parameter {bad} is NaN or Inf")
        self.state.epoch += 1
        row: dict[str, float] = {
            "epoch": self.state.epoch,
            "total_env_steps": self.state.total_env_steps,
            "wall_time": self.state.wall_time(),
            "test/success_rate": mean(test_success),
            "test/mean_Q": mean(test_q),
            "train/success_rate": mean(
                float(np.mean(ep.train_success)) if ep.train_success else 0.0
            ),
        }
        d = self.config.ddpg
        losses = rank_loss_means(
            ep.loss_sums, ep.n_updates, self.workers.size, logs_bc=d.bc_loss or d.bc_only
        )
        for key in sorted(losses):  # same order on every rank: the means are collective
            row[f"train/{key}"] = mean(losses[key])
        row["train/demo_resets"] = mean(ep.demo_resets) * self.workers.size
        row["train/discarded_episodes"] = mean(ep.discarded_episodes) * self.workers.size
        row["buffer/episodes"] = self.buffer.size
        ln = self.learner
        row["stats_o/mean"] = float(ln.o_stats.mean.mean())
        row["stats_o/std"] = float(ln.o_stats.std.mean())
        row["stats_g/mean"] = float(ln.g_stats.mean.mean())
        row["stats_g/std"] = float(ln.g_stats.std.mean())
        row["time/rollout"] = ep.rollout_time
        row["time/sample"] = ep.sample_time
        row["time/update"] = ep.update_time
        row["time/eval"] = eval_time
        row["time/epoch"] = ep.rollout_time + ep.sample_time + ep.update_time + eval_time
        self.epoch_progress = EpochProgress()
        return row

    def save_policies(self, success: float) -> None:
        """latest every epoch; best when test success ties or beats the best so far; periodic."""
        if success >= self.state.best_success:
            self.state.best_success = success  # tracked on every rank, so checkpoints agree
            if self.workers.is_main:
                self.policy(success).save(self.logdir / "policy_best.pkl")
        if not self.workers.is_main:
            return
        policy = self.policy(success)
        policy.save(self.logdir / "policy_latest.pkl")
        interval = self.config.train.policy_save_interval
        if interval > 0 and self.state.epoch % interval == 0:
            policy.save(self.logdir / f"policy_{self.state.epoch}.pkl")

    def train(
        self,
        progress: ProgressLog,
        show_bar: bool = True,
        stop_requested: Callable[[], bool] = lambda: False,
    ) -> bool:
        """Runs cycles and epochs until ``n_epochs`` are complete or a stop is requested.

        A checkpoint is written every ``checkpoint_interval`` epochs, after the last epoch, and
        before returning on a stop request.

        Args:
            progress: where epoch rows go.
            show_bar: draw a progress bar (only on a terminal).
            stop_requested: polled between cycles (SIGINT/SIGTERM handlers set it).

        Returns:
            True when all epochs completed, False when stopped early.
        """
        from tqdm import tqdm

        t = self.config.train
        bar = tqdm(
            total=t.n_epochs * t.n_cycles,
            initial=self.state.epoch * t.n_cycles + self.epoch_progress.cycle,
            unit="cycle",
            disable=None if show_bar else True,
            dynamic_ncols=True,
            leave=False,
        )
        try:
            while self.state.epoch < t.n_epochs:
                bar.set_description(f"epoch {self.state.epoch + 1}/{t.n_epochs}")
                while self.epoch_progress.cycle < t.n_cycles:
                    if self.workers.any(stop_requested()):
                        self.save_checkpoint()
                        return False
                    self.run_cycle()
                    bar.update(1)
                row = self.finish_epoch()
                if self.workers.is_main:
                    progress.write(row)
                self.save_policies(row["test/success_rate"])
                line = epoch_line(row, t.n_epochs)
                if bar.disable:
                    self.log(line)
                else:
                    bar.write(line)
                interval = t.checkpoint_interval
                if self.state.epoch == t.n_epochs or (
                    interval > 0 and self.state.epoch % interval == 0
                ):
                    self.save_checkpoint()
        finally:
            bar.close()
        return True

    # ----- checkpoints -----
    def save_checkpoint(self) -> Path:
        """Writes a checkpoint of everything (see :mod:`herdemos.checkpoint`); logs its size."""
        arrays = {f"buffer/{k}": v for k, v in self.buffer.state_dict().items()}
        if self.demo_buffer is not None:
            arrays.update({f"demo_buffer/{k}": v for k, v in self.demo_buffer.state_dict().items()})
        arrays.update(self.learner.normalizer_state())
        arrays["learner/noise_rng"] = self.learner.noise_rng_state()
        state = dataclasses.asdict(self.state)
        state["elapsed_before"] = self.state.wall_time()
        del state["start_time"]
        meta = {
            "format": CHECKPOINT_FORMAT,
            "config": self.config.to_dict(),
            "state": state,
            "epoch_progress": dataclasses.asdict(self.epoch_progress),
            "rng": self.rng.bit_generator.state,
            "envs": [env_rng_state(env) for env in self.envs],
            "eval_envs": [env_rng_state(env) for env in self.eval_envs],
            "worker_seeds": self.worker.pending_seeds(),
            "evaluator_seeds": self.evaluator.pending_seeds(),
        }
        folder = write_checkpoint(
            self.logdir,
            self.state.epoch,
            self.epoch_progress.cycle,
            arrays,
            meta,
            self.learner.save_tf_state,
            self.workers,
        )
        self.log(f"checkpoint {folder.name} ({folder_size(folder) / 1e6:.1f} MB)")
        return folder

    def restore_checkpoint(self, folder: Path) -> None:
        """Restores a checkpoint written by :meth:`save_checkpoint` for the same config.

        Raises:
            HerdemosError: one line naming the checkpoint and the problem.
        """
        arrays, meta = read_checkpoint_state(folder, state_file_name(self.workers.rank))
        try:
            if meta.get("format") != CHECKPOINT_FORMAT:
                raise ValueError(f"not a {CHECKPOINT_FORMAT} checkpoint")
            if not same_run_config(meta["config"], self.config):
                raise ValueError("it was written with a different configuration")

            def section(prefix: str) -> dict[str, np.ndarray]:
                return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}

            self.buffer.load_state_dict(section("buffer/"))
            if self.demo_buffer is not None:
                self.demo_buffer.load_state_dict(section("demo_buffer/"))
            self.learner.load_normalizer_state(arrays)
            if "learner/noise_rng" in arrays:  # absent from checkpoints written before it
                self.learner.set_noise_rng_state(arrays["learner/noise_rng"])
            self.rng.bit_generator.state = meta["rng"]
            for env, rng_state in zip(self.envs, meta["envs"], strict=True):
                set_env_rng_state(env, rng_state)
            for env, rng_state in zip(self.eval_envs, meta["eval_envs"], strict=True):
                set_env_rng_state(env, rng_state)
            self.worker.set_pending_seeds(meta["worker_seeds"])
            self.evaluator.set_pending_seeds(meta["evaluator_seeds"])
            self.state = TrainingState(**meta["state"])
            self.epoch_progress = EpochProgress(**meta["epoch_progress"])
        except (KeyError, ValueError, TypeError, IndexError, AttributeError, OverflowError) as e:
            raise HerdemosError(f"{folder}: cannot resume from this checkpoint ({e})") from None
        self.learner.restore_tf_state(str(Path(folder) / "learner"))
