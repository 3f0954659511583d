"""The actor loss: BC only on demo rows, the Q-filter's selection, plain DDPG without BC."""

import numpy as np
import pytest
import tensorflow as tf

from herdemos.config import DDPGConfig
from herdemos.ddpg import DDPG, Dims, actor_loss, q_filter_mask

LAMBDA1, LAMBDA2, ACTION_L2 = 0.001, 0.0078, 1.0


def loss_inputs(seed=0, n=12):
    rng = np.random.default_rng(seed)
    pi = tf.constant(rng.uniform(-1, 1, (n, 3)), tf.float32)
    u = tf.constant(rng.uniform(-1, 1, (n, 3)), tf.float32)
    q_pi = tf.constant(rng.normal(size=n), tf.float32)
    q_demo = tf.constant(rng.normal(size=n), tf.float32)
    # demo rows deliberately interleaved, not at the end of the batch
    is_demo = tf.constant(rng.random(n) < 0.5)
    return pi, u, q_pi, q_demo, is_demo


def test_q_filter_selects_demo_rows_where_critic_prefers_demo_action():
    _, _, q_pi, q_demo, is_demo = loss_inputs()
    mask = q_filter_mask(is_demo, q_demo, q_pi, q_filter=True).numpy()
    expected = is_demo.numpy() & (q_demo.numpy() > q_pi.numpy())
    np.testing.assert_array_equal(mask.astype(bool), expected)
    assert 0 < expected.sum() < is_demo.numpy().sum()  # the filter really drops some demo rows


def test_q_filter_slack_keeps_demo_rows_the_critic_cannot_yet_tell_apart():
    _, _, q_pi, q_demo, is_demo = loss_inputs()
    gap = q_pi.numpy() - q_demo.numpy()  # > 0: the critic prefers the actor's action
    slack = tf.constant(np.full(gap.shape, np.median(np.abs(gap))), tf.float32)
    mask = q_filter_mask(is_demo, q_demo, q_pi, q_filter=True, slack=slack).numpy()
    expected = is_demo.numpy() & (gap < slack.numpy())
    np.testing.assert_array_equal(mask.astype(bool), expected)
    seed_filter = q_filter_mask(is_demo, q_demo, q_pi, q_filter=True).numpy()
    # Every row the seed's filter keeps is kept, plus those preferred by less than the slack.
    assert np.all(mask >= seed_filter) and mask.sum() > seed_filter.sum()
    huge = tf.constant(np.full(gap.shape, 1e9), tf.float32)
    everything = q_filter_mask(is_demo, q_demo, q_pi, q_filter=True, slack=huge).numpy()
    np.testing.assert_array_equal(everything.astype(bool), is_demo.numpy())


def test_without_q_filter_every_demo_row_is_cloned():
    _, _, q_pi, q_demo, is_demo = loss_inputs()
    mask = q_filter_mask(is_demo, q_demo, q_pi, q_filter=False).numpy()
    np.testing.assert_array_equal(mask.astype(bool), is_demo.numpy())


@pytest.mark.parametrize("q_scale", [0.5, 4.0])
def test_scaled_rl_term_is_divided_by_the_mean_abs_q_above_one(q_scale):
    pi, u, q_pi, q_demo, is_demo = loss_inputs(6)
    q_pi = q_pi * q_scale
    args = (q_pi, pi, u, q_demo, is_demo, 1.0, ACTION_L2, True, True, LAMBDA1, LAMBDA2)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(q_pi)
        scaled, bc, mask = actor_loss(*args, scale_rl=True)
        fixed, _, fixed_mask = actor_loss(*args)
    np.testing.assert_array_equal(mask.numpy(), fixed_mask.numpy())  # BC rows are unchanged
    divisor = max(1.0, float(np.mean(np.abs(q_pi.numpy()))))
    assert (divisor > 1.0) == (q_scale > 1.0)
    rl = -np.mean(q_pi.numpy()) + ACTION_L2 * np.mean(np.square(pi.numpy()))
    assert float(scaled) == pytest.approx(LAMBDA1 * rl / divisor + LAMBDA2 * float(bc), 1e-5)
    # The scale is a constant for the gradient: Q's gradient is the fixed one over the divisor.
    np.testing.assert_allclose(
        tape.gradient(scaled, q_pi).numpy(), tape.gradient(fixed, q_pi).numpy() / divisor, 1e-5
    )


@pytest.mark.parametrize("q_filter", [False, True])
def test_bc_value_and_agent_rows_get_no_bc_gradient(q_filter):
    pi, u, q_pi, q_demo, is_demo = loss_inputs(1)
    with tf.GradientTape() as tape:
        tape.watch(pi)
        _, bc, mask = actor_loss(
            q_pi, pi, u, q_demo, is_demo, 1.0, ACTION_L2, True, q_filter, LAMBDA1, LAMBDA2
        )
    grad = tape.gradient(bc, pi).numpy()
    cloned = mask.numpy().astype(bool)
    expected_bc = np.sum(np.square(pi.numpy() - u.numpy())[cloned])
    assert float(bc) == pytest.approx(expected_bc, rel=1e-5)
    assert np.all(grad[~is_demo.numpy()] == 0.0)  # agent rows: no BC gradient at all
    assert np.all(grad[~cloned] == 0.0)
    np.testing.assert_allclose(grad[cloned], 2 * (pi.numpy() - u.numpy())[cloned], rtol=1e-5)


def test_loss_with_bc_weights_rl_and_bc_terms():
    pi, u, q_pi, q_demo, is_demo = loss_inputs(2)
    loss, bc, _ = actor_loss(
        q_pi, pi, u, q_demo, is_demo, 1.0, ACTION_L2, True, True, LAMBDA1, LAMBDA2
    )
    rl = -np.mean(q_pi.numpy()) + ACTION_L2 * np.mean(np.square(pi.numpy()))
    assert float(loss) == pytest.approx(LAMBDA1 * rl + LAMBDA2 * float(bc), rel=1e-5)


def test_without_bc_the_actor_loss_is_plain_ddpg():
    pi, u, q_pi, q_demo, is_demo = loss_inputs(3)
    max_u = 2.0
    loss, bc, mask = actor_loss(
        q_pi, pi, u, q_demo, is_demo, max_u, ACTION_L2, False, False, LAMBDA1, LAMBDA2
    )
    plain = -np.mean(q_pi.numpy()) + ACTION_L2 * np.mean(np.square(pi.numpy() / max_u))
    assert float(loss) == pytest.approx(plain, rel=1e-6)
    assert float(bc) == 0.0 and not mask.numpy().any()


def test_bc_only_is_the_mean_cloning_error_on_demo_rows():
    pi, u, q_pi, q_demo, is_demo = loss_inputs(4)
    loss, bc, mask = actor_loss(
        q_pi, pi, u, q_demo, is_demo, 1.0, ACTION_L2, False, False, LAMBDA1, LAMBDA2, bc_only=True
    )
    demo = is_demo.numpy()
    expected = np.square(pi.numpy() - u.numpy())[demo].sum(axis=-1).mean()
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    np.testing.assert_array_equal(mask.numpy().astype(bool), demo)


def batch(rng, n=64, n_demo=16):
    is_demo = np.zeros(n, bool)
    is_demo[rng.choice(n, n_demo, replace=False)] = True
    return {
        "o": rng.normal(size=(n, 5)),
        "g": rng.normal(size=(n, 2)),
        "u": rng.uniform(-1, 1, (n, 2)),
        "r": -rng.integers(0, 2, n).astype(np.float32),
        "o_2": rng.normal(size=(n, 5)),
        "is_demo": is_demo,
    }


def test_learner_update_changes_weights_and_reports_losses():
    tf.keras.utils.set_random_seed(0)
    cfg = DDPGConfig(hidden=16, layers=2, bc_loss=True, q_filter=True)
    learner = DDPG(Dims(5, 2, 2), 1.0, cfg, gamma=0.9)
    before = learner.actor_weights()
    stats = learner.train(batch(np.random.default_rng(0)))
    assert set(stats) == {"critic_loss", "actor_loss", "bc_loss", "q_filter_frac", "mean_q"}
    assert 0.0 <= stats["q_filter_frac"] <= 1.0
    assert int(learner.step.numpy()) == 1
    assert any(not np.allclose(a, b) for a, b in zip(before, learner.actor_weights(), strict=True))


def test_polyak_target_update():
    tf.keras.utils.set_random_seed(0)
    learner = DDPG(Dims(5, 2, 2), 1.0, DDPGConfig(hidden=8, layers=1, polyak=0.9), gamma=0.9)
    learner.train(batch(np.random.default_rng(1)))
    target_before = [v.numpy() for v in learner.target.variables]
    main = [v.numpy() for v in learner.main.variables]
    learner.update_target_net()
    for t_before, m, t_after in zip(target_before, main, learner.target.variables, strict=True):
        np.testing.assert_allclose(t_after.numpy(), 0.9 * t_before + 0.1 * m, rtol=1e-5, atol=1e-7)


def test_target_is_clipped_to_minus_horizon_and_zero():
    learner = DDPG(Dims(5, 2, 2), 1.0, DDPGConfig(hidden=8, layers=1), gamma=0.98)
    assert learner.clip_return == pytest.approx(50.0)
    unclipped = DDPG(Dims(5, 2, 2), 1.0, DDPGConfig(hidden=8, layers=1, clip_return=False), 0.98)
    assert unclipped.clip_return == np.inf
    # The stacking step reward reaches -N per step: the floor scales with it.
    step = DDPG(Dims(5, 2, 2), 1.0, DDPGConfig(hidden=8, layers=1), gamma=0.98, worst_reward=-3.0)
    assert step.clip_return == pytest.approx(150.0)


def test_bc_weight_is_scaled_by_the_number_of_ranks_that_split_the_batch():
    """Each of N ranks sums BC over 1/N of the demo rows and gradients are averaged, so the
    learner multiplies lambda2 by N to keep the seed's sum over the full demo batch."""
    cfg = DDPGConfig(hidden=8, layers=1, bc_loss=True, q_filter=False)
    tensors = DDPG(Dims(5, 2, 2), 1.0, cfg, 0.9, seed=0).prepare_batch(
        batch(np.random.default_rng(5))
    )
    one = DDPG(Dims(5, 2, 2), 1.0, cfg, 0.9, seed=0)
    two = DDPG(Dims(5, 2, 2), 1.0, cfg, 0.9, seed=0, reduce_sum=lambda x: 2 * x, ranks=2)
    _, loss_one, stats = one._losses(*tensors)
    _, loss_two, _ = two._losses(*tensors)
    assert float(loss_two - loss_one) == pytest.approx(LAMBDA2 * float(stats["bc_loss"]), rel=1e-4)


@pytest.mark.parametrize("ranks", [1, 2, 4])
def test_logged_bc_loss_is_the_whole_batch_sum_however_many_ranks_split_it(ranks):
    from herdemos.logger import rank_loss_means

    rng = np.random.default_rng(ranks)
    row_errors = rng.uniform(0.0, 1.0, size=(3, 8))  # 3 updates, 8 demo rows each
    critic = rng.uniform(0.0, 1.0, size=3)
    shares = np.split(row_errors, ranks, axis=1)  # each rank sums its share of the rows
    logged = [
        rank_loss_means(
            {"bc_loss": float(share.sum()), "critic_loss": float(critic.sum())}, 3, ranks, True
        )
        for share in shares
    ]
    single = row_errors.sum(axis=1).mean()
    assert np.mean([r["bc_loss"] for r in logged]) == pytest.approx(single)
    assert np.mean([r["critic_loss"] for r in logged]) == pytest.approx(critic.mean())


def test_bc_entries_are_not_logged_without_a_bc_loss():
    from herdemos.logger import rank_loss_means

    sums = {"bc_loss": 0.0, "q_filter_frac": 0.0, "critic_loss": 6.0}
    assert rank_loss_means(sums, 3, 2, logs_bc=False) == {"critic_loss": 2.0}
    assert rank_loss_means(sums, 0, 1, logs_bc=True)["critic_loss"] == 6.0  # no updates yet
