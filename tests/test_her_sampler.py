"""The HER sampler: goals only from the future, relabel fraction, rewards recomputed."""

import numpy as np
import pytest

from herdemos.her import her_probability, make_sample_her_transitions

from point_env import PointGoalEnv, make_episodes

HORIZON = 5


def counting_reward(calls):
    def reward_fn(ag_2, g, info):
        calls.append((ag_2.copy(), g.copy(), info))
        return PointGoalEnv().compute_reward(ag_2, g, info)

    return reward_fn


def test_future_goals_come_from_t_plus_1_to_T():
    rng = np.random.default_rng(0)
    episodes = make_episodes(4, HORIZON, rng)
    sample = make_sample_her_transitions("future", 4, PointGoalEnv().compute_reward)
    batch = sample(episodes, 20_000, rng)
    t = batch["ag"][:, 0].astype(int)  # ag[t] = t by construction
    ep = (batch["ag"][:, 1] / 100).astype(int)
    relabelled = np.isclose(batch["g"][:, 1], 100 * ep) & (
        batch["g"][:, 0] == np.round(batch["g"][:, 0])
    )
    future_t = batch["g"][relabelled, 0].astype(int)
    assert np.all(future_t >= t[relabelled] + 1)
    assert np.all(future_t <= HORIZON)
    # every admissible offset occurs, including the last achieved goal ag[T]
    assert set(future_t[t[relabelled] == 0]) == set(range(1, HORIZON + 1))
    # about 80 % of goals are relabelled for k = 4
    assert relabelled.mean() == pytest.approx(0.8, abs=0.02)


def test_rewards_are_recomputed_for_the_relabelled_goals():
    rng = np.random.default_rng(1)
    calls = []
    sample = make_sample_her_transitions("future", 4, counting_reward(calls))
    batch = sample(make_episodes(3, HORIZON, rng), 500, rng)
    assert len(calls) == 1
    ag_2, g, info = calls[0]
    np.testing.assert_array_equal(ag_2, batch["ag_2"])
    np.testing.assert_array_equal(g, batch["g"])
    assert set(info) == {"is_success"}
    expected = -(np.linalg.norm(batch["ag_2"] - batch["g"], axis=-1) > 0.1).astype(np.float32)
    np.testing.assert_array_equal(batch["r"], expected)
    # relabelled with t' = t + 1 means the goal was achieved by this very transition
    hit = np.all(batch["g"] == batch["ag_2"], axis=-1)
    assert hit.any() and np.all(batch["r"][hit] == 0.0)


def test_next_observation_is_the_next_time_step():
    rng = np.random.default_rng(2)
    batch = make_sample_her_transitions("future", 4, PointGoalEnv().compute_reward)(
        make_episodes(3, HORIZON, rng), 300, rng
    )
    np.testing.assert_array_equal(batch["o_2"][:, 0], batch["o"][:, 0] + 1)
    np.testing.assert_array_equal(batch["ag_2"][:, 1], batch["ag"][:, 1])


def test_strategy_none_keeps_original_goals():
    rng = np.random.default_rng(3)
    episodes = make_episodes(2, HORIZON, rng)
    batch = make_sample_her_transitions("none", 4, PointGoalEnv().compute_reward)(
        episodes, 200, rng
    )
    originals = {tuple(row) for row in episodes["g"].reshape(-1, 2)}
    assert all(tuple(row) in originals for row in batch["g"])


@pytest.mark.parametrize(
    ("strategy", "k", "p"), [("future", 4, 0.8), ("future", 1, 0.5), ("none", 4, 0.0)]
)
def test_her_probability(strategy, k, p):
    assert her_probability(strategy, k) == pytest.approx(p)


def test_unknown_strategy_is_rejected():
    with pytest.raises(ValueError, match="replay_strategy"):
        make_sample_her_transitions("final", 4, PointGoalEnv().compute_reward)
