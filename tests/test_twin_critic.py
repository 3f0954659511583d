"""The opt-in TD3 critic: clipped double-Q targets, target policy smoothing, and checkpoints."""

import numpy as np
import pytest
import tensorflow as tf
from test_losses import batch

from herdemos.config import DDPGConfig
from herdemos.ddpg import DDPG, Dims, smoothed_action
from herdemos.util import HerdemosError

DIMS = Dims(5, 2, 2)


def learner(seed=0, **overrides):
    cfg = DDPGConfig(hidden=16, layers=2, bc_loss=True, q_filter=True, **overrides)
    return DDPG(DIMS, 1.0, cfg, gamma=0.9, seed=seed)


def test_twin_target_is_the_smaller_of_the_two_target_critics():
    ln = learner(twin_q=True)
    o, g, _, r, o_2, _ = ln.prepare_batch(batch(np.random.default_rng(0)))
    pi_2 = ln.target.pi(o_2, g)
    q1 = ln.target.q(o_2, g, pi_2).numpy()
    q2 = ln.target.q2(o_2, g, pi_2).numpy()
    assert not np.allclose(q1, q2)  # independently initialised critics
    expected = np.clip(r + 0.9 * np.minimum(q1, q2), -ln.clip_return, 0.0)
    np.testing.assert_allclose(ln.target_q(g, r, o_2).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_single_critic_target_is_ddpgs():
    ln = learner()
    assert ln.main.critic2 is None
    o, g, _, r, o_2, _ = ln.prepare_batch(batch(np.random.default_rng(1)))
    q1 = ln.target.q(o_2, g, ln.target.pi(o_2, g)).numpy()
    expected = np.clip(r + 0.9 * q1, -ln.clip_return, 0.0)
    np.testing.assert_allclose(ln.target_q(g, r, o_2).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_smoothing_noise_is_clipped_to_two_and_a_half_std_and_actions_to_the_bound():
    u = tf.constant([[0.0, 0.0], [0.0, 0.95], [-0.9, 0.3]])
    noise = tf.constant([[1.0, -0.01], [-1.0, 0.2], [-0.2, 0.05]])
    out = smoothed_action(u, noise, std=0.2, max_u=1.0).numpy()
    np.testing.assert_allclose(out, [[0.5, -0.01], [-0.5, 1.0], [-1.0, 0.35]], atol=1e-6)


def test_target_noise_makes_the_target_stochastic_and_zero_noise_does_not():
    o, g, _, r, o_2, _ = learner().prepare_batch(batch(np.random.default_rng(2)))
    noisy = learner(target_noise=0.2)
    first, second = noisy.target_q(g, r, o_2).numpy(), noisy.target_q(g, r, o_2).numpy()
    assert not np.allclose(first, second)
    exact = learner()
    np.testing.assert_array_equal(exact.target_q(g, r, o_2).numpy(), exact.target_q(g, r, o_2))


def test_twin_update_trains_both_critics_and_polyak_moves_both_targets():
    ln = learner(twin_q=True, target_noise=0.2)
    c1 = [v.numpy() for v in ln.main.critic.trainable_variables]
    c2 = [v.numpy() for v in ln.main.critic2.trainable_variables]
    stats = ln.train(batch(np.random.default_rng(3)))
    assert np.isfinite(stats["critic_loss"]) and stats["critic_loss"] > 0
    for before, var in [
        *zip(c1, ln.main.critic.trainable_variables, strict=True),
        *zip(c2, ln.main.critic2.trainable_variables, strict=True),
    ]:
        assert not np.allclose(before, var.numpy())
    t2 = [v.numpy() for v in ln.target.critic2.trainable_variables]
    ln.update_target_net()
    assert not np.allclose(t2[0], ln.target.critic2.trainable_variables[0].numpy())


def test_twin_checkpoint_round_trips_and_refuses_a_single_critic_one(tmp_path):
    ln = learner(twin_q=True)
    ln.train(batch(np.random.default_rng(4)))
    ln.save_tf_state(str(tmp_path / "twin"))
    other = learner(seed=1, twin_q=True)
    other.restore_tf_state(str(tmp_path / "twin"))
    for mine, theirs in zip(other.main.variables, ln.main.variables, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    for mine, theirs in zip(other.target.critic_variables, ln.target.critic_variables, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    learner().save_tf_state(str(tmp_path / "single"))
    with pytest.raises(HerdemosError, match="single: cannot restore"):
        learner(twin_q=True).restore_tf_state(str(tmp_path / "single"))
    with pytest.raises(HerdemosError, match="twin: cannot restore"):
        learner().restore_tf_state(str(tmp_path / "twin"))


def test_target_noise_out_of_range_is_one_line_error():
    from herdemos.config import Config
    from herdemos.config_checks import validate

    cfg = Config(ddpg=DDPGConfig(target_noise=1.5))
    with pytest.raises(HerdemosError, match="target_noise"):
        validate(cfg)
