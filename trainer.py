"""The training loop: epochs x cycles x (rollout, store, updates, target update), then evaluation,
logging and policy saving, as in baselines HER. The parts it works on are built by
:mod:`herdemos.assembly`; what a checkpoint holds is in :mod:`herdemos.checkpoint`."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from herdemos.assembly import RunParts, assemble
from herdemos.checkpoint import (
    EpochProgress,
    TrainingState,
    folder_size,
    restore_run_checkpoint,
    save_run_checkpoint,
)
from herdemos.config import Config
from herdemos.demos import DemoData
from herdemos.growth_guard import growth_warnings, norm
from herdemos.logger import ProgressLog, epoch_line, epoch_row
from herdemos.parallel import Ranks
from herdemos.policy import Policy
from herdemos.rollout import PolicyActions, Rollout
from herdemos.util import HerdemosError
from herdemos.video import EpochVideos

BATCH_KEYS = ("o", "g", "u", "r", "o_2")


class TrainingDiverged(HerdemosError):
    """A loss, parameter or observation became NaN or Inf; the last good checkpoint is kept."""


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


class Trainer:
    """Runs the loop on a run's parts.

    Args:
        parts: what :func:`herdemos.assembly.assemble` built for the run.
        logdir: run folder (params.json, progress.csv, policies, checkpoints).
        log: where human-readable lines go (rank 0 only under MPI).
        ranks: the MPI ranks of this job (a single process by default).
        videos: films a test episode every ``video_interval`` epochs (rank 0 only).
    """

    def __init__(
        self,
        parts: RunParts,
        logdir: Path,
        log: Callable[[str], None] = print,
        ranks: Ranks | None = None,
        videos: EpochVideos | None = None,
    ) -> None:
        self.parts = parts
        self.config = parts.config
        self.logdir = Path(logdir)
        self.ranks = ranks or Ranks(None)
        self.log = log if self.ranks.is_main else (lambda line: None)
        self.info, self.rng = parts.info, parts.rng
        self.envs, self.eval_envs = parts.envs, parts.eval_envs
        self.sampler, self.buffer, self.demo_buffer = parts.sampler, parts.buffer, parts.demo_buffer
        self.learner = parts.learner
        self.worker, self.evaluator = parts.worker, parts.evaluator
        self.batch_size, self.demo_batch_size = parts.batch_size, parts.demo_batch_size
        self.state = TrainingState()
        self.epoch_progress = EpochProgress()
        self.checkpointed_at: tuple[int, int] | None = None  # (epoch, cycle) this session saved
        self.videos = videos if self.ranks.is_main else None
        self.terminated_noted = False

    @classmethod
    def from_config(
        cls,
        config: Config,
        logdir: Path,
        demos: DemoData | None,
        log: Callable[[str], None] = print,
        ranks: Ranks | None = None,
    ) -> Trainer:
        """Assembles the run's parts from ``config`` and ``demos``; a trainer on them."""
        ranks = ranks or Ranks(None)
        return cls(assemble(config, demos, ranks, log), logdir, log, ranks)

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
        self.note_terminated(rollout)
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
        self.state.total_env_steps += rollout.n_steps * self.ranks.size
        n_batches = 0 if self.ranks.any(self.buffer.size == 0) else t.n_batches
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
        if self.ranks.any(bool(bad)):
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
        self.note_terminated(rollout)
        return rollout.success_rate, float(rollout.mean_q)

    def note_terminated(self, rollout: Rollout) -> None:
        """Says once that the env ends episodes early, which HER's goal envs never do."""
        if rollout.n_terminated and not self.terminated_noted:
            self.terminated_noted = True
            self.log(
                f"note: {self.info.env_id} returned terminated=True; such an episode is held in "
                f"its final state until step T={self.info.horizon} (docs/envs.md#your-own-env)"
            )

    def finish_epoch(self) -> dict[str, float]:
        """Evaluates, closes the epoch's accounting and returns its progress row."""
        start = time.perf_counter()
        test = self.evaluate()
        eval_time = time.perf_counter() - start
        bad = self.learner.non_finite_parameter()
        if bad is not None:
            raise TrainingDiverged(f"epoch {self.state.epoch + 1}: parameter {bad} is NaN or Inf")
        self.state.epoch += 1
        row = epoch_row(
            self.state,
            self.epoch_progress,
            test,
            eval_time,
            self.buffer.size,
            self.learner,
            self.ranks,
        )
        self.epoch_progress = EpochProgress()
        return row

    def growth_warnings(self, row: dict[str, float] | None) -> list[str]:
        """Warnings for parameter norms and losses grown by orders of magnitude since they were
        first measured (see :mod:`herdemos.growth_guard`); the same on every rank. Without an
        epoch's ``row``, the norms alone are measured (before the first update)."""
        values = {
            "the actor's parameter norm": norm(self.learner.actor_weights()),
            "the critic's parameter norm": norm(self.learner.critic_weights()),
        }
        for key in ("critic_loss", "actor_loss"):
            if row is not None and f"train/{key}" in row:
                values[key] = row[f"train/{key}"]
        return growth_warnings(self.state.growth_reference, values, self.state.epoch)

    def save_policies(self, success: float) -> None:
        """latest every epoch; best when test success ties or beats the best so far; periodic."""
        if success >= self.state.best_success:
            self.state.best_success = success  # tracked on every rank, so checkpoints agree
            if self.ranks.is_main:
                self.policy(success).save(self.logdir / "policy_best.pkl")
        if not self.ranks.is_main:
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
        before returning on a stop request (unless the epoch that just ended wrote it).

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
        self.growth_warnings(None)  # the untrained networks' norms, on a new run
        try:
            while self.state.epoch < t.n_epochs:
                bar.set_description(f"epoch {self.state.epoch + 1}/{t.n_epochs}")
                while self.epoch_progress.cycle < t.n_cycles:
                    if self.ranks.any(stop_requested()):
                        if self.checkpointed_at != self.position():  # not saved by epoch's end
                            self.save_checkpoint()
                        return False
                    self.run_cycle()
                    bar.update(1)
                row = self.finish_epoch()
                if self.ranks.is_main:
                    progress.write(row)
                self.save_policies(row["test/success_rate"])
                if self.videos is not None:
                    steps = self.state.total_env_steps
                    self.videos.film(self.state.epoch, self.policy(), steps, progress)
                line = epoch_line(row, t.n_epochs)
                for text in [line, *self.growth_warnings(row)]:
                    if bar.disable:
                        self.log(text)
                    else:
                        bar.write(text)
                interval = t.checkpoint_interval
                if self.state.epoch == t.n_epochs or (
                    interval > 0 and self.state.epoch % interval == 0
                ):
                    self.save_checkpoint()
        finally:
            bar.close()
        return True

    # ----- checkpoints -----
    def position(self) -> tuple[int, int]:
        """``(epochs, cycles)`` completed: what a checkpoint written now would hold."""
        return self.state.epoch, self.epoch_progress.cycle

    def save_checkpoint(self) -> Path:
        """Writes a checkpoint of everything (see :mod:`herdemos.checkpoint`); logs its size."""
        folder = save_run_checkpoint(
            self.logdir, self.parts, self.state, self.epoch_progress, self.ranks
        )
        self.checkpointed_at = self.position()
        self.log(f"checkpoint {folder.name} ({folder_size(folder) / 1e6:.1f} MB)")
        return folder

    def restore_checkpoint(self, folder: Path) -> None:
        """Restores a checkpoint written by :meth:`save_checkpoint` for the same config.

        Raises:
            HerdemosError: one line naming the checkpoint and the problem.
        """
        self.state, self.epoch_progress = restore_run_checkpoint(
            folder, self.parts, self.ranks.rank
        )
