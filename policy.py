"""A trained policy as plain data: weights and normaliser statistics, run in NumPy.

The rollout workers act with this object (no TF call per env step, so inference never
dominates a rollout), and policy files are this object's arrays pickled as plain containers.
Loading uses a restricted unpickler that admits only NumPy arrays and builtin containers, so
a policy file can never import a module or run code.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from herdemos.normalizer import NUMPY_OPS, ArrayOps, clip_and_normalize
from herdemos.plain_pickle import loads_plain_data
from herdemos.policy_checks import FORMAT, checked_fields
from herdemos.util import HerdemosError, atomic_write


def mlp_forward(weights: Sequence[Any], x: Any, ops: ArrayOps = NUMPY_OPS) -> Any:
    """ReLU MLP with a linear last layer; ``weights`` alternate kernel, bias (Keras layout).

    The one forward pass of a saved network: the NumPy policy runs it on arrays, the export on
    TF tensors (``ops``), so a policy file and its SavedModel compute the same function.
    """
    n_layers = len(weights) // 2
    for i in range(n_layers):
        x = x @ weights[2 * i] + weights[2 * i + 1]
        if i < n_layers - 1:
            x = ops.relu(x)
    return x


def actor_forward(
    weights: Sequence[Any], o_n: Any, g_n: Any, max_u: float, ops: ArrayOps = NUMPY_OPS
) -> Any:
    """pi(o, g) from normalised inputs: the actor MLP, then ``tanh`` scaled to the action box."""
    return max_u * ops.tanh(mlp_forward(weights, ops.concat([o_n, g_n]), ops))


def replace_at_random(
    u: np.ndarray, max_u: float, random_eps: float, rng: np.random.Generator
) -> np.ndarray:
    """Each row of ``u`` replaced, with probability ``random_eps``, by a uniformly random action
    in ``[-max_u, max_u]``: the random half of the learner's exploration (float32)."""
    random_u = rng.uniform(-max_u, max_u, u.shape)
    use_random = rng.random((u.shape[0], 1)) < random_eps
    return np.where(use_random, random_u, u).astype(np.float32)


@dataclass
class Policy:
    """Deterministic actor pi(o, g) with its critic, normalisers and metadata.

    Attributes:
        actor_weights, critic_weights: Keras-ordered kernels and biases.
        o_mean, o_std, g_mean, g_std: normaliser statistics at save time.
        clip_obs, norm_clip: clipping of raw and normalised inputs.
        max_u: action bound.
        metadata: primitive values only (env id, dims, T, epoch, success rate, config).
    """

    actor_weights: list[np.ndarray]
    critic_weights: list[np.ndarray]
    o_mean: np.ndarray
    o_std: np.ndarray
    g_mean: np.ndarray
    g_std: np.ndarray
    clip_obs: float
    norm_clip: float
    max_u: float
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def env_id(self) -> str:
        return str(self.metadata.get("env_id", ""))

    def check_fits(self, dims: tuple[int, int, int], env_id: str, source: str) -> None:
        """Raises unless ``dims`` (the env's observation, goal and action sizes) are the
        policy's: a policy run on another env (``--env``) fails here in one line, not in a
        matrix product."""
        own = (self.o_mean.size, self.g_mean.size, self.actor_weights[-1].shape[-1])
        if tuple(dims) != own:
            raise HerdemosError(f"{source}: the policy's dims do not fit {env_id}")

    def _inputs(self, o: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c, n = self.clip_obs, self.norm_clip
        return (
            clip_and_normalize(o, self.o_mean, self.o_std, c, n),
            clip_and_normalize(g, self.g_mean, self.g_std, c, n),
        )

    def deterministic(self, o: np.ndarray, g: np.ndarray) -> np.ndarray:
        """pi(o, g) for a batch (or one row) of raw observations and goals."""
        o_n, g_n = self._inputs(np.atleast_2d(o), np.atleast_2d(g))
        return actor_forward(self.actor_weights, o_n, g_n, self.max_u).astype(np.float32)

    def q_value(self, o: np.ndarray, g: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Q(o, g, u), shape ``(batch,)``."""
        o_n, g_n = self._inputs(np.atleast_2d(o), np.atleast_2d(g))
        x = np.concatenate([o_n, g_n, np.atleast_2d(u) / self.max_u], axis=-1).astype(np.float32)
        return mlp_forward(self.critic_weights, x)[:, 0]

    def explore(
        self,
        o: np.ndarray,
        g: np.ndarray,
        noise_eps: float,
        random_eps: float,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Exploration as in baselines and the seed: Gaussian noise of ``noise_eps * max_u``,
        clipping, then with probability ``random_eps`` a uniformly random action instead."""
        u = self.deterministic(o, g)
        u = np.clip(
            u + noise_eps * self.max_u * rng.standard_normal(u.shape), -self.max_u, self.max_u
        )
        return replace_at_random(u, self.max_u, random_eps, rng)

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """The deterministic action for one Gymnasium goal-env observation dict."""
        action = self.deterministic(obs["observation"], obs["desired_goal"])
        return action[0] if np.ndim(obs["observation"]) == 1 else action

    # ----- files -----
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "actor_weights": [np.asarray(w) for w in self.actor_weights],
            "critic_weights": [np.asarray(w) for w in self.critic_weights],
            "o_mean": self.o_mean,
            "o_std": self.o_std,
            "g_mean": self.g_mean,
            "g_std": self.g_std,
            "clip_obs": float(self.clip_obs),
            "norm_clip": float(self.norm_clip),
            "max_u": float(self.max_u),
            "metadata": self.metadata,
        }

    def save(self, path: str | os.PathLike) -> None:
        """Atomically writes the policy as a pickle of plain containers and arrays."""
        payload = pickle.dumps(self.to_dict(), protocol=4)
        atomic_write(path, lambda f: f.write(payload))


def run_config_differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The ``section.field`` names whose values differ between two policies' training
    configurations (``metadata["config"]``), leaving out ``train.n_epochs``: a resumed run may
    have raised it, and checkpoints before and after the resume still belong to one run."""

    def flat(metadata: dict[str, Any]) -> dict[str, Any]:
        sections = metadata.get("config") or {}
        return {f"{s}.{k}": v for s, fields in sections.items() for k, v in fields.items()}

    fields_a, fields_b = flat(a), flat(b)
    return sorted(
        key
        for key in fields_a.keys() | fields_b.keys()
        if key != "train.n_epochs" and fields_a.get(key) != fields_b.get(key)
    )


def average_policies(policies: Sequence[Policy], names: Sequence[str]) -> Policy:
    """The element-wise mean of several checkpoints of one run (stochastic weight averaging).

    Why: late in a DDPG run the actor keeps oscillating around a good solution, so any single
    checkpoint is a noisy draw (Stack2-v1 checkpoints of one run range 0.77-0.89 on the same 100
    episodes) while their mean sits nearer the centre (0.93 on those episodes). The normaliser
    statistics are averaged too: by then they barely move, so the averaged weights all read
    nearly the same normalised inputs. Averaging checkpoints of different runs is meaningless
    (their hidden units are not aligned), so the policies must carry the same training
    configuration (seed included; only ``n_epochs``, which a resume may raise, can differ) and
    different epochs.

    Args:
        policies: at least one, all for the same env with the same network shapes.
        names: one label per policy (e.g. its file), used in error messages.

    Returns:
        A new policy; its metadata is the last policy's, plus ``averaged_epochs`` and
        ``averaged_from``.

    Raises:
        HerdemosError: one line naming the policy that does not match the first.
    """
    if not policies or len(policies) != len(names):
        raise HerdemosError("average_policies needs at least one policy and one name for each")
    first = policies[0]

    def shapes(p: Policy) -> list[tuple[int, ...]]:
        return [w.shape for w in [*p.actor_weights, *p.critic_weights]]

    for policy, name in zip(policies[1:], names[1:], strict=True):
        if policy.env_id != first.env_id:
            raise HerdemosError(
                f"{name}: trained on {policy.env_id!r}, but {names[0]} on {first.env_id!r}"
            )
        if shapes(policy) != shapes(first) or policy.o_mean.shape != first.o_mean.shape:
            raise HerdemosError(f"{name}: network shapes differ from {names[0]}'s")
        if (policy.clip_obs, policy.norm_clip, policy.max_u) != (
            first.clip_obs,
            first.norm_clip,
            first.max_u,
        ):
            raise HerdemosError(f"{name}: clipping or action bound differs from {names[0]}'s")
        for key in run_config_differences(first.metadata, policy.metadata):
            raise HerdemosError(
                f"{name}: another training run than {names[0]} ({key} differs); "
                "only checkpoints of one run can be averaged"
            )
    seen: dict[Any, str] = {}
    for policy, name in zip(policies, names, strict=True):
        epoch = policy.metadata.get("epoch")
        if epoch is not None and epoch in seen:
            raise HerdemosError(f"{name}: epoch {epoch} is already in the list ({seen[epoch]})")
        seen[epoch] = name

    def mean_of(arrays: Sequence[np.ndarray]) -> np.ndarray:
        return np.mean(np.stack(arrays), axis=0).astype(np.float32)

    def mean_weights(per_policy: list[list[np.ndarray]]) -> list[np.ndarray]:
        return [mean_of(layer) for layer in zip(*per_policy, strict=True)]

    last = policies[-1]
    return Policy(
        actor_weights=mean_weights([p.actor_weights for p in policies]),
        critic_weights=mean_weights([p.critic_weights for p in policies]),
        o_mean=mean_of([p.o_mean for p in policies]),
        o_std=mean_of([p.o_std for p in policies]),
        g_mean=mean_of([p.g_mean for p in policies]),
        g_std=mean_of([p.g_std for p in policies]),
        clip_obs=first.clip_obs,
        norm_clip=first.norm_clip,
        max_u=first.max_u,
        metadata={
            **last.metadata,
            "averaged_epochs": [p.metadata.get("epoch") for p in policies],
            "averaged_from": [str(n) for n in names],
        },
    )


def load_policy(path: str | os.PathLike) -> Policy:
    """Loads a policy file written by herdemos, refusing anything that is not plain data, and
    any policy whose actions could be NaN or Inf.

    Raises:
        HerdemosError: one line naming the file and the problem.
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise HerdemosError(f"{path}: cannot read policy file ({e.strerror})") from None
    if not data:
        raise HerdemosError(f"{path}: empty file, not a policy")
    try:
        d = loads_plain_data(data)
    except pickle.UnpicklingError as e:
        raise HerdemosError(f"{path}: not a herdemos policy file ({e})") from None
    except Exception as e:  # truncated or garbage bytes raise many different types
        raise HerdemosError(f"{path}: not a readable policy file ({type(e).__name__})") from None
    try:
        fields = checked_fields(d)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
        raise HerdemosError(f"{path}: malformed policy file ({e})") from None
    return Policy(**fields)
