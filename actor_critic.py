"""The actor and critic networks (Keras), as in baselines HER.

Both take *normalised* observation and goal. The actor ends in ``tanh`` scaled by ``max_u``;
the critic sees the action divided by ``max_u`` so its inputs are all of unit scale.
Weight layout matches :class:`herdemos.policy.Policy`, which runs the same networks in NumPy.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def mlp(in_dim: int, hidden: int, layers: int, out_dim: int, name: str) -> keras.Sequential:
    """A ``layers`` x ``hidden`` ReLU MLP with a linear output of size ``out_dim``."""
    stack: list[keras.layers.Layer] = [keras.Input(shape=(in_dim,))]
    stack += [keras.layers.Dense(hidden, activation="relu") for _ in range(layers)]
    stack.append(keras.layers.Dense(out_dim))
    return keras.Sequential(stack, name=name)


class ActorCritic:
    """One actor ``pi(o, g)`` and one critic ``Q(o, g, u)``.

    Args:
        dim_o, dim_g, dim_u: input and action sizes.
        max_u: action bound; the actor outputs lie in ``[-max_u, max_u]``.
        hidden, layers: MLP size (3 x 256 in the paper and baselines).
        name: prefix for variable names ("main" or "target").
    """

    def __init__(
        self, dim_o: int, dim_g: int, dim_u: int, max_u: float, hidden: int, layers: int, name: str
    ) -> None:
        self.max_u = float(max_u)
        self.actor = mlp(dim_o + dim_g, hidden, layers, dim_u, f"{name}_actor")
        self.critic = mlp(dim_o + dim_g + dim_u, hidden, layers, 1, f"{name}_critic")

    def pi(self, o: tf.Tensor, g: tf.Tensor) -> tf.Tensor:
        return self.max_u * tf.tanh(self.actor(tf.concat([o, g], axis=-1)))

    def q(self, o: tf.Tensor, g: tf.Tensor, u: tf.Tensor) -> tf.Tensor:
        """Q-values of shape ``(batch,)``."""
        return tf.squeeze(self.critic(tf.concat([o, g, u / self.max_u], axis=-1)), axis=-1)

    @property
    def variables(self) -> list[tf.Variable]:
        return [*self.actor.trainable_variables, *self.critic.trainable_variables]

    def copy_from(self, other: ActorCritic) -> None:
        for mine, theirs in zip(self.variables, other.variables, strict=True):
            mine.assign(theirs)
