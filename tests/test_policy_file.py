"""Policy files: plain data, round trip, same actions as the TF actor, hostile pickles refused."""

import os
import pickle

import numpy as np
import pytest
import tensorflow as tf

from herdemos import load_policy
from herdemos.config import DDPGConfig
from herdemos.ddpg import DDPG, Dims
from herdemos.policy import Policy
from herdemos.util import HerdemosError


def make_policy(seed=0):
    tf.keras.utils.set_random_seed(seed)
    learner = DDPG(Dims(5, 2, 2), 1.5, DDPGConfig(hidden=16, layers=2), gamma=0.9)
    rng = np.random.default_rng(seed)
    learner.update_normalizers({"o": rng.normal(2, 3, (100, 5)), "g": rng.normal(size=(100, 2))})
    policy = Policy(
        learner.actor_weights(),
        learner.critic_weights(),
        learner.o_stats.mean,
        learner.o_stats.std,
        learner.g_stats.mean,
        learner.g_stats.std,
        clip_obs=200.0,
        norm_clip=5.0,
        max_u=1.5,
        metadata={"env_id": "PointGoal-v0", "epoch": 3, "success_rate": 0.5},
    )
    return learner, policy


def test_numpy_policy_matches_tf_actor_and_critic():
    learner, policy = make_policy()
    rng = np.random.default_rng(1)
    o, g = rng.normal(2, 3, (7, 5)), rng.normal(size=(7, 2))
    o_n, g_n = learner.normalize_og(o, g)
    np.testing.assert_allclose(
        policy.deterministic(o, g), learner.main.pi(o_n, g_n).numpy(), atol=1e-5
    )
    u = rng.uniform(-1.5, 1.5, (7, 2)).astype(np.float32)
    np.testing.assert_allclose(
        policy.q_value(o, g, u), learner.main.q(o_n, g_n, u).numpy(), atol=1e-4
    )


def test_round_trip(tmp_path):
    _, policy = make_policy()
    path = tmp_path / "policy.pkl"
    policy.save(path)
    loaded = load_policy(path)
    obs = {"observation": np.ones(5), "desired_goal": np.zeros(2), "achieved_goal": np.zeros(2)}
    np.testing.assert_array_equal(loaded.act(obs), policy.act(obs))
    assert loaded.act(obs).shape == (2,)
    assert loaded.metadata == policy.metadata


def test_exploration_stays_in_bounds_and_differs_from_deterministic():
    _, policy = make_policy()
    rng = np.random.default_rng(0)
    o, g = np.zeros((500, 5)), np.zeros((500, 2))
    u = policy.explore(o, g, noise_eps=0.2, random_eps=0.3, rng=rng)
    assert np.abs(u).max() <= 1.5
    assert not np.allclose(u, policy.deterministic(o, g))


def test_hostile_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"format": "herdemos-policy-v1", "actor_weights": Exploit()}))
    with pytest.raises(HerdemosError, match=r"evil\.pkl: not a herdemos policy file"):
        load_policy(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"\x80\x04garbage", "not a (readable|herdemos) policy file"),
        (pickle.dumps({"a": 1}), "format tag"),
        (pickle.dumps([1, 2, 3]), "format tag"),
    ],
)
def test_bad_policy_files_get_one_line_errors(tmp_path, content, message):
    path = tmp_path / "bad.pkl"
    path.write_bytes(content)
    with pytest.raises(HerdemosError, match=message) as err:
        load_policy(path)
    assert "\n" not in str(err.value) and "bad.pkl" in str(err.value)


def test_truncated_policy_file(tmp_path):
    _, policy = make_policy()
    path = tmp_path / "cut.pkl"
    policy.save(path)
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(HerdemosError, match="cut.pkl"):
        load_policy(path)


def test_missing_file():
    with pytest.raises(HerdemosError, match="cannot read policy file"):
        load_policy("/nonexistent/policy.pkl")


def test_bias_that_does_not_fit_its_kernel_is_refused(tmp_path):
    _, policy = make_policy()
    policy.actor_weights[1] = np.zeros(3, np.float32)  # the kernel has 16 outputs
    path = tmp_path / "crafted.pkl"
    policy.save(path)
    with pytest.raises(HerdemosError, match="mismatched kernel and bias"):
        load_policy(path)


def test_the_policy_normalises_its_inputs_as_training_does():
    """One normaliser: the NumPy policy's inputs are training's clip-then-normalise."""
    from herdemos.normalizer import Normalizer, clip_and_normalize

    rng = np.random.default_rng(0)
    stats = Normalizer(3, clip_range=5.0)
    stats.update(rng.normal(1.0, 0.1, (100, 3)))
    stats.recompute_stats()
    x = rng.normal(1.0, 2.0, (20, 3)) * np.array([1.0, 1.0, 500.0])  # some beyond clip_obs
    trained = stats.normalize(np.clip(x, -200.0, 200.0))
    np.testing.assert_array_equal(clip_and_normalize(x, stats.mean, stats.std, 200.0, 5.0), trained)
    assert trained.dtype == np.float32 and np.abs(trained).max() == 5.0
