"""The DDPG learner with the demonstration losses of Nair et al. (2018).

One ``tf.function`` step updates critic and actor from one batch. Demonstration handling reads
the batch's ``is_demo`` column only: the behaviour-cloning (BC) loss and the Q-filter never
assume where demo rows sit in the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from herdemos.actor_critic import ActorCritic, keras, tf
from herdemos.checkpoint_checks import check_noise_rng_state
from herdemos.config import DDPGConfig
from herdemos.normalizer import Normalizer, load_normalizer_states
from herdemos.util import HerdemosError


@dataclass(frozen=True)
class Dims:
    """Sizes of observation, goal and action."""

    o: int
    g: int
    u: int


def q_filter_mask(
    is_demo: tf.Tensor,
    q_demo: tf.Tensor,
    q_pi: tf.Tensor,
    q_filter: bool,
    slack: tf.Tensor | None = None,
):
    """Rows that receive the BC loss: demo rows, and with the Q-filter only those where the
    critic rates the demonstrator's action above the actor's, ``Q(s, a_demo) > Q(s, pi(s))``.

    ``slack`` (per row, or None for the seed's filter) is added to ``Q(s, a_demo)``: the filter
    then drops a demo action only when the critic prefers the actor's by more than the slack.
    """
    mask = tf.cast(is_demo, tf.bool)
    if q_filter:
        preferred = q_demo > q_pi if slack is None else q_demo + slack > q_pi
        mask = tf.logical_and(mask, preferred)
    return tf.stop_gradient(tf.cast(mask, tf.float32))


def actor_loss(
    q_pi: tf.Tensor,
    pi: tf.Tensor,
    u: tf.Tensor,
    q_demo: tf.Tensor,
    is_demo: tf.Tensor,
    max_u: float,
    action_l2: float,
    bc_loss: bool,
    q_filter: bool,
    lambda1: float,
    lambda2: float,
    bc_only: bool = False,
    q_slack: tf.Tensor | None = None,
    scale_rl: bool = False,
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """The actor's loss: plain DDPG, or DDPG + BC (+ Q-filter) as in the seed.

    ``rl = -mean Q(s, pi(s)) + action_l2 * mean((pi / max_u)^2)`` over all rows. With BC the loss
    is ``lambda1 * rl + lambda2 * sum_{masked rows} ||pi(s) - a_demo||^2`` (a sum, not a mean,
    as in the seed, so lambda2 = 0.0078 keeps its meaning). ``bc_only`` is the paper's
    behaviour-cloning baseline: the mean ``||pi(s) - a_demo||^2`` over demo rows, no RL term.
    ``scale_rl`` divides the RL term by ``max(1, mean |Q(s, pi(s))|)``, a constant for the
    gradient.

    Returns:
        ``(loss, bc, mask)``: the total, the unweighted BC sum (0 without BC), and the
        per-row 0/1 mask of rows that were cloned.
    """
    if bc_only:
        mask = tf.cast(is_demo, tf.float32)
        bc = tf.reduce_sum(mask * tf.reduce_sum(tf.square(pi - u), axis=-1))
        return bc / tf.maximum(tf.reduce_sum(mask), 1.0), bc, mask
    rl = -tf.reduce_mean(q_pi) + action_l2 * tf.reduce_mean(tf.square(pi / max_u))
    if not bc_loss:
        return rl, tf.constant(0.0), tf.zeros_like(q_pi)
    if scale_rl:
        rl = rl / tf.stop_gradient(tf.maximum(tf.reduce_mean(tf.abs(q_pi)), 1.0))
    mask = q_filter_mask(is_demo, q_demo, q_pi, q_filter, q_slack)
    bc = tf.reduce_sum(mask * tf.reduce_sum(tf.square(pi - u), axis=-1))
    return lambda1 * rl + lambda2 * bc, bc, mask


def smoothed_action(u: tf.Tensor, noise: tf.Tensor, std: float, max_u: float) -> tf.Tensor:
    """TD3's target policy smoothing: ``u`` plus ``noise`` clipped to 2.5 ``std`` (TD3's 0.5 for
    std 0.2), then clipped to the action bound. Nearby actions then share one target value, so
    the critic cannot fit a narrow spike that the actor would chase."""
    noise = tf.clip_by_value(noise, -2.5 * std, 2.5 * std)
    return tf.clip_by_value(u + noise, -max_u, max_u)


class DDPG:
    """Main and target actor-critic, their optimisers, and the normalisers of o and g.

    Args:
        dims: observation, goal and action sizes.
        max_u: action bound.
        config: network and loss settings.
        gamma: discount (the caller resolves ``config.gamma=None`` to ``1 - 1/T``).
        seed: seeds the network initialisation (TF, via Keras); None leaves it random.
        reduce_sum: sums arrays across MPI ranks (identity without MPI); used for normaliser
            statistics and for averaging gradients.
        ranks: the number of MPI ranks that ``reduce_sum`` sums over.
        worst_reward: the env's lowest per-step reward (-1 for Fetch's sparse reward, -N for
            N-block stacking's step reward); target returns are clipped to
            ``[worst_reward / (1 - gamma), 0]``.
    """

    def __init__(
        self,
        dims: Dims,
        max_u: float,
        config: DDPGConfig,
        gamma: float,
        seed: int | None = None,
        reduce_sum=None,
        ranks: int = 1,
        worst_reward: float = -1.0,
    ) -> None:
        self.dims = dims
        self.max_u = float(max_u)
        self.config = config
        self.gamma = float(gamma)
        self.ranks = ranks
        self._reduce_sum = reduce_sum
        if seed is not None:
            keras.utils.set_random_seed(seed)
        # Target-smoothing noise from a generator of its own, whose state checkpoints carry
        # (noise_rng_state), so a resumed run draws the noise the uninterrupted one would have.
        self.noise_rng = (
            tf.random.Generator.from_seed(seed)
            if seed is not None
            else tf.random.Generator.from_non_deterministic_state()
        )
        self.o_stats = Normalizer(dims.o, config.norm_eps, config.norm_clip, reduce_sum)
        self.g_stats = Normalizer(dims.g, config.norm_eps, config.norm_clip, reduce_sum)
        args = (dims.o, dims.g, dims.u, max_u, config.hidden, config.layers)
        self.main = ActorCritic(*args, name="main", twin=config.twin_q)
        self.target = ActorCritic(*args, name="target", twin=config.twin_q)
        self.target.copy_from(self.main)
        self.pi_optimizer = keras.optimizers.Adam(config.pi_lr)
        self.q_optimizer = keras.optimizers.Adam(config.q_lr)
        self.pi_optimizer.build(self.main.actor.trainable_variables)
        self.q_optimizer.build(self.main.critic_variables)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.clip_return = (
            -float(worst_reward) / (1.0 - self.gamma) if config.clip_return else np.inf
        )
        self._train_fused = tf.function(self._fused_step, reduce_retracing=True)
        self._grads = tf.function(self._gradients, reduce_retracing=True)
        self._apply = tf.function(self._apply_gradients, reduce_retracing=True)

    # ----- preprocessing (NumPy) -----
    def normalize_og(self, o: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = self.config.clip_obs
        return self.o_stats.normalize(np.clip(o, -c, c)), self.g_stats.normalize(np.clip(g, -c, c))

    def update_normalizers(self, transitions: dict[str, np.ndarray] | None) -> None:
        """Feeds HER-relabelled transitions to the running stats, as baselines does: the
        goals the networks will see include relabelled ones, so their stats should too.
        ``None`` adds nothing but still takes part in the (collective) recompute."""
        if transitions is not None:
            c = self.config.clip_obs
            self.o_stats.update(np.clip(transitions["o"], -c, c))
            self.g_stats.update(np.clip(transitions["g"], -c, c))
        self.o_stats.recompute_stats()
        self.g_stats.recompute_stats()

    # ----- the update -----
    def target_q(self, g, r, o_2) -> tf.Tensor:
        """The critic's regression target ``r + gamma * Q'(s', pi'(s'))``, clipped to the
        reachable returns. With ``target_noise`` the target action is smoothed with clipped
        Gaussian noise; with ``twin_q`` ``Q'`` is the smaller of the two target critics."""
        cfg = self.config
        pi_2 = self.target.pi(o_2, g)
        if cfg.target_noise > 0:
            std = cfg.target_noise * self.max_u
            pi_2 = smoothed_action(
                pi_2, self.noise_rng.normal(tf.shape(pi_2), stddev=std), std, self.max_u
            )
        next_q = self.target.q(o_2, g, pi_2)
        if cfg.twin_q:
            next_q = tf.minimum(next_q, self.target.q2(o_2, g, pi_2))
        target = r + self.gamma * next_q
        return tf.stop_gradient(tf.clip_by_value(target, -self.clip_return, 0.0))

    def _losses(self, o, g, u, r, o_2, is_demo):
        """Critic and actor losses from one batch of normalised inputs. The actor and the
        Q-filter use the first critic, as TD3's actor does."""
        cfg = self.config
        target_q = self.target_q(g, r, o_2)
        q_demo = self.main.q(o, g, u)  # Q(s, a) of the stored (possibly demo) action
        critic_loss = tf.reduce_mean(tf.square(target_q - q_demo))
        if cfg.twin_q:
            critic_loss += tf.reduce_mean(tf.square(target_q - self.main.q2(o, g, u)))
        pi = self.main.pi(o, g)
        q_pi = self.main.q(o, g, pi)
        loss, bc, mask = actor_loss(
            q_pi,
            pi,
            u,
            tf.stop_gradient(q_demo),
            is_demo,
            self.max_u,
            cfg.action_l2,
            cfg.bc_loss,
            cfg.q_filter,
            cfg.lambda1,
            # Each of N ranks sums BC over its 1/N share of the demo rows and the gradients are
            # averaged over ranks, so lambda2 * N keeps the seed's sum over the whole batch.
            cfg.lambda2 * self.ranks,
            cfg.bc_only,
            # The critic's own TD error on each demo row: where it exceeds the preference for
            # the actor's action, the critic cannot yet tell the two apart (see
            # DDPGConfig.q_filter_slack).
            tf.stop_gradient(tf.abs(target_q - q_demo))
            if cfg.q_filter_slack == "td_error"
            else None,
            cfg.rl_scale == "mean_abs_q",
        )
        n_demo = tf.reduce_sum(tf.cast(is_demo, tf.float32))
        stats = {
            "critic_loss": critic_loss,
            "actor_loss": loss,
            "bc_loss": bc,
            "q_filter_frac": tf.reduce_sum(mask) / tf.maximum(n_demo, 1.0),
            "mean_q": tf.reduce_mean(q_demo),
        }
        return critic_loss, loss, stats

    def _gradients(self, o, g, u, r, o_2, is_demo):
        with tf.GradientTape(persistent=True) as tape:
            critic_loss, pi_loss, stats = self._losses(o, g, u, r, o_2, is_demo)
        # The actor loss depends on critic weights too; only actor weights get its gradient.
        q_grads = tape.gradient(critic_loss, self.main.critic_variables)
        pi_grads = tape.gradient(pi_loss, self.main.actor.trainable_variables)
        del tape
        return q_grads, pi_grads, stats

    def _apply_gradients(self, q_grads, pi_grads):
        self.q_optimizer.apply_gradients(zip(q_grads, self.main.critic_variables, strict=True))
        self.pi_optimizer.apply_gradients(
            zip(pi_grads, self.main.actor.trainable_variables, strict=True)
        )
        self.step.assign_add(1)

    def _fused_step(self, o, g, u, r, o_2, is_demo):
        q_grads, pi_grads, stats = self._gradients(o, g, u, r, o_2, is_demo)
        self._apply_gradients(q_grads, pi_grads)
        return stats

    def prepare_batch(self, batch: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
        """Normalises a sampled batch into the tensors the update step takes."""
        o, g = self.normalize_og(batch["o"], batch["g"])
        o_2, _ = self.normalize_og(batch["o_2"], batch["g"])
        return (
            o,
            g,
            batch["u"].astype(np.float32),
            batch["r"].astype(np.float32),
            o_2,
            batch["is_demo"].astype(bool),
        )

    def train(self, batch: dict[str, np.ndarray]) -> dict[str, float]:
        """One gradient step on critic and actor. With several MPI ranks, gradients are averaged
        across them before being applied, so every rank keeps identical parameters."""
        tensors = self.prepare_batch(batch)
        if self.ranks == 1:
            stats = self._train_fused(*tensors)
        else:
            q_grads, pi_grads, stats = self._grads(*tensors)
            q_grads = self._average(q_grads)
            pi_grads = self._average(pi_grads)
            self._apply(q_grads, pi_grads)
        return {k: float(v) for k, v in stats.items()}

    def _average(self, grads: list[tf.Tensor]) -> list[tf.Tensor]:
        flat = np.concatenate([gr.numpy().ravel() for gr in grads])
        flat = self._reduce_sum(flat) / self.ranks
        out, start = [], 0
        for gr in grads:
            size = int(np.prod(gr.shape))
            out.append(tf.constant(flat[start : start + size].reshape(gr.shape), tf.float32))
            start += size
        return out

    def sync_from_main(self, broadcast) -> None:
        """Makes every MPI rank start from rank 0's networks (``broadcast`` is the identity
        for one process)."""
        main = broadcast([v.numpy() for v in self.main.variables])
        for var, value in zip(self.main.variables, main, strict=True):
            var.assign(value)
        self.target.copy_from(self.main)

    def update_target_net(self) -> None:
        """Polyak averaging: ``target <- polyak * target + (1 - polyak) * main``."""
        p = self.config.polyak
        for t, m in zip(self.target.variables, self.main.variables, strict=True):
            t.assign(p * t + (1.0 - p) * m)

    def non_finite_parameter(self) -> str | None:
        """The name of the first NaN/Inf network variable, or None if all are finite."""
        for var in [*self.main.variables, *self.target.variables]:
            if not np.all(np.isfinite(var.numpy())):
                return var.path if hasattr(var, "path") else var.name
        return None

    # ----- checkpoints -----
    def _checkpoint(self) -> tf.train.Checkpoint:
        objects = {
            "actor": self.main.actor,
            "critic": self.main.critic,
            "target_actor": self.target.actor,
            "target_critic": self.target.critic,
            "pi_optimizer": self.pi_optimizer,
            "q_optimizer": self.q_optimizer,
            "step": self.step,
        }
        if self.config.twin_q:  # absent otherwise, so single-critic checkpoints keep their form
            objects["critic2"] = self.main.critic2
            objects["target_critic2"] = self.target.critic2
        return tf.train.Checkpoint(**objects)

    def save_tf_state(self, prefix: str) -> None:
        """Networks, targets, optimiser slots and the step counter, via ``tf.train.Checkpoint``;
        ``OSError`` with TF's first line if they cannot be written (a full disk)."""
        try:
            self._checkpoint().write(prefix)
        except tf.errors.OpError as e:
            lines = str(e.message).strip().splitlines()
            raise OSError(lines[0][:200] if lines else type(e).__name__) from None

    def restore_tf_state(self, prefix: str) -> None:
        """Restores :meth:`save_tf_state`; every saved value must match a variable here.

        Raises:
            HerdemosError: the files are missing, damaged, or from a different network.
        """
        status = None
        try:
            status = self._checkpoint().read(prefix)
            status.assert_consumed()
        except Exception as e:  # TF raises many error types for damaged or foreign files
            if status is not None:  # else TF lists every unmatched value when it is collected
                status.expect_partial()
            first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise HerdemosError(f"{prefix}: cannot restore learner ({first_line[:200]})") from None

    def normalizer_state(self) -> dict[str, np.ndarray]:
        state = {f"o_stats/{k}": v for k, v in self.o_stats.state_dict().items()}
        state.update({f"g_stats/{k}": v for k, v in self.g_stats.state_dict().items()})
        return state

    def noise_rng_state(self) -> np.ndarray:
        """The target-noise generator's state (algorithm and counter), for checkpoints."""
        return self.noise_rng.state.numpy()

    def set_noise_rng_state(self, state: np.ndarray) -> None:
        """Restores :meth:`noise_rng_state`.

        Raises:
            ValueError: the array does not fit the generator.
        """
        self.noise_rng.state.assign(check_noise_rng_state(state, self.noise_rng.state.shape))

    def load_normalizer_state(self, state: dict[str, np.ndarray]) -> None:
        """Restores :meth:`normalizer_state`; ``ValueError`` naming a part that does not fit."""
        load_normalizer_states(state, {"o_stats": self.o_stats, "g_stats": self.g_stats})

    # ----- export -----
    def actor_weights(self) -> list[np.ndarray]:
        return [w.numpy() for w in self.main.actor.trainable_variables]

    def critic_weights(self) -> list[np.ndarray]:
        """The first critic's weights (the one the actor and Q-filter follow)."""
        return [w.numpy() for w in self.main.critic.trainable_variables]
