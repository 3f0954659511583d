"""The actor and critic networks (Keras), as in baselines HER.

Both take *normalised* observation and goal. The actor ends in ``tanh`` scaled by ``max_u``;
the critic sees the action divided by ``max_u`` so its inputs are all of unit scale.
Weight layout matches :class:`herdemos.policy.Policy`, which runs the same networks in NumPy.
"""

from __future__ import annotations

import time

from herdemos.normalizer import ArrayOps, clip_and_normalize
from herdemos.policy import Policy, actor_forward
from herdemos.util import native_stderr_silenced

with native_stderr_silenced():
    import keras
    import tensorflow as tf

TF_OPS = ArrayOps(
    clip=tf.clip_by_value,
    relu=tf.nn.relu,
    tanh=tf.tanh,
    concat=lambda xs: tf.concat(xs, axis=-1),
    to_float32=lambda x: tf.cast(x, tf.float32),
)
"""The array functions of :mod:`herdemos.normalizer` for TF tensors, so the exported actor runs
the NumPy policy's own input pipeline and forward pass."""


def mlp(in_dim: int, hidden: int, layers: int, out_dim: int, name: str) -> keras.Sequential:
    """A ``layers`` x ``hidden`` ReLU MLP with a linear output of size ``out_dim``."""
    stack: list[keras.layers.Layer] = [keras.Input(shape=(in_dim,))]
    stack += [keras.layers.Dense(hidden, activation="relu") for _ in range(layers)]
    stack.append(keras.layers.Dense(out_dim))
    return keras.Sequential(stack, name=name)


class ActorCritic:
    """One actor ``pi(o, g)`` and one critic ``Q(o, g, u)``, plus an optional second critic.

    Args:
        dim_o, dim_g, dim_u: input and action sizes.
        max_u: action bound; the actor outputs lie in ``[-max_u, max_u]``.
        hidden, layers: MLP size (3 x 256 in the paper and baselines).
        name: prefix for variable names ("main" or "target").
        twin: also build ``critic2``, an independently initialised copy of the critic, for
            TD3's clipped double-Q target (the learner takes the smaller of the two).
    """

    def __init__(
        self,
        dim_o: int,
        dim_g: int,
        dim_u: int,
        max_u: float,
        hidden: int,
        layers: int,
        name: str,
        twin: bool = False,
    ) -> None:
        self.max_u = float(max_u)
        self.actor = mlp(dim_o + dim_g, hidden, layers, dim_u, f"{name}_actor")
        self.critic = mlp(dim_o + dim_g + dim_u, hidden, layers, 1, f"{name}_critic")
        self.critic2 = (
            mlp(dim_o + dim_g + dim_u, hidden, layers, 1, f"{name}_critic2") if twin else None
        )

    def pi(self, o: tf.Tensor, g: tf.Tensor) -> tf.Tensor:
        return self.max_u * tf.tanh(self.actor(tf.concat([o, g], axis=-1)))

    def q(self, o: tf.Tensor, g: tf.Tensor, u: tf.Tensor) -> tf.Tensor:
        """Q-values of shape ``(batch,)``."""
        return self._q_of(self.critic, o, g, u)

    def q2(self, o: tf.Tensor, g: tf.Tensor, u: tf.Tensor) -> tf.Tensor:
        """The second critic's Q-values (only with ``twin``)."""
        return self._q_of(self.critic2, o, g, u)

    def _q_of(self, critic: keras.Sequential, o, g, u) -> tf.Tensor:
        return tf.squeeze(critic(tf.concat([o, g, u / self.max_u], axis=-1)), axis=-1)

    @property
    def critic_variables(self) -> list[tf.Variable]:
        """Every critic weight: the one critic, or both with ``twin``."""
        second = self.critic2.trainable_variables if self.critic2 is not None else []
        return [*self.critic.trainable_variables, *second]

    @property
    def variables(self) -> list[tf.Variable]:
        return [*self.actor.trainable_variables, *self.critic_variables]

    def copy_from(self, other: ActorCritic) -> None:
        for mine, theirs in zip(self.variables, other.variables, strict=True):
            mine.assign(theirs)


class ServingActor(tf.Module):
    """The deterministic actor with input clipping and normalisation built in, for deployment.

    Its weights come from a plain-data policy (see :class:`herdemos.policy.Policy`), so a
    SavedModel can be exported from any policy file without the training code.
    """

    def __init__(self, policy: Policy) -> None:
        super().__init__(name="herdemos_actor")
        self.o_mean = tf.constant(policy.o_mean, tf.float32)
        self.o_std = tf.constant(policy.o_std, tf.float32)
        self.g_mean = tf.constant(policy.g_mean, tf.float32)
        self.g_std = tf.constant(policy.g_std, tf.float32)
        self.clip_obs = float(policy.clip_obs)
        self.norm_clip = float(policy.norm_clip)
        self.max_u = float(policy.max_u)
        self.weights = [tf.Variable(w, trainable=False) for w in policy.actor_weights]
        dim_o, dim_g = policy.o_mean.size, policy.g_mean.size
        self.serve = tf.function(
            self._serve,
            input_signature=[
                tf.TensorSpec([None, dim_o], tf.float32, name="observation"),
                tf.TensorSpec([None, dim_g], tf.float32, name="desired_goal"),
            ],
        )

    def _serve(self, observation: tf.Tensor, desired_goal: tf.Tensor) -> dict[str, tf.Tensor]:
        c, n = self.clip_obs, self.norm_clip
        o_n = clip_and_normalize(observation, self.o_mean, self.o_std, c, n, TF_OPS)
        g_n = clip_and_normalize(desired_goal, self.g_mean, self.g_std, c, n, TF_OPS)
        return {"action": actor_forward(self.weights, o_n, g_n, self.max_u, TF_OPS)}


def export_saved_model(policy: Policy, directory: str) -> None:
    """Writes ``policy``'s actor as a SavedModel whose ``serving_default`` signature takes
    ``observation`` and ``desired_goal`` (float32, batched) and returns ``{"action": ...}``."""
    module = ServingActor(policy)
    tf.saved_model.save(module, directory, signatures={"serving_default": module.serve})


def matmul_peak_gflops(n: int = 2048, repeats: int = 30) -> float:
    """Best-case float32 GEMM speed (GFLOP/s) of this TF build on this machine: the ceiling that
    benchmarks/throughput.py compares the learner's update speed against. It lives here because
    TensorFlow is imported only by the learner's modules. Best of 3 timed bursts of ``repeats``
    ``n`` x ``n`` products, after one untimed call that traces the function."""
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    matmul = tf.function(lambda x, y: tf.matmul(x, y))
    matmul(a, b).numpy()
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            out = matmul(a, b)
        out.numpy()
        best = max(best, 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9)
    return best
