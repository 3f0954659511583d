"""Recorded returns for the Q-filter's ``q_filter_return``: the return each demonstration
earned from a step on, under the row's goal, and the filter keeping the larger of it and Q."""

import numpy as np
import pytest

from herdemos.config import DDPGConfig
from herdemos.ddpg import DDPG, Dims
from herdemos.her import episode_returns, make_sample_her_transitions
from herdemos.trainer import concat_batches

from point_env import PointGoalEnv, make_episodes

GAMMA = 0.5


def line_episode(horizon: int) -> dict[str, np.ndarray]:
    """One episode along x: ag[t] = (t, 0), so goal (k, 0) is reached only after action k-1."""
    return make_episodes(1, horizon, np.random.default_rng(0))


def test_a_demo_that_ends_at_the_goal_earns_nothing_more_after_its_last_step():
    episodes = line_episode(4)  # ag = 0, 1, 2, 3, 4; the goal (4, 0) is reached by step 3
    g = np.array([[4.0, 0.0]], np.float32)
    reward = PointGoalEnv().compute_reward
    got = episode_returns(episodes, np.array([0]), np.array([1]), np.array([4]), g, reward, GAMMA)
    # steps 1, 2 miss (-1 each), step 3 reaches it (0), and 0 is held after the end
    assert got[0] == pytest.approx(-1.0 - GAMMA)


def test_a_demo_that_ends_away_from_the_goal_keeps_its_last_reward_forever():
    episodes = line_episode(4)
    g = np.array([[2.0, 0.0]], np.float32)  # passed at step 1, then left behind
    reward = PointGoalEnv().compute_reward
    got = episode_returns(episodes, np.array([0]), np.array([0]), np.array([4]), g, reward, GAMMA)
    # r = -1, 0, -1, -1 and then -1 held: -1 + 0 - g^2 - g^3 - g^4 / (1 - g)
    expected = -1.0 - GAMMA**2 - GAMMA**3 - GAMMA**4 / (1.0 - GAMMA)
    assert got[0] == pytest.approx(expected)


def test_a_short_recording_is_read_up_to_its_own_length_only():
    episodes = line_episode(6)
    g = np.array([[3.0, 0.0]], np.float32)
    reward = PointGoalEnv().compute_reward
    # a demo of length 3 ends at the goal (ag[3] = 3): the padding after it is never read
    episodes["ag"][0, 4:] = 99.0
    got = episode_returns(episodes, np.array([0]), np.array([0]), np.array([3]), g, reward, GAMMA)
    assert got[0] == pytest.approx(-1.0 - GAMMA)


def test_the_sampler_gives_each_row_the_return_of_its_own_episode_step_and_goal():
    rng = np.random.default_rng(3)
    horizon = 6
    episodes = make_episodes(3, horizon, rng)
    reward = PointGoalEnv().compute_reward
    batch = make_sample_her_transitions("future", 4, reward, return_gamma=GAMMA)(episodes, 400, rng)
    ep = (batch["ag"][:, 1] / 100).astype(int)  # ag[t] = (t, 100 * episode)
    t = batch["ag"][:, 0].astype(int)
    for i in range(len(ep)):
        rewards = [
            reward(episodes["ag"][ep[i], k + 1], batch["g"][i], {}) for k in range(t[i], horizon)
        ]
        tail = GAMMA ** len(rewards) * rewards[-1] / (1.0 - GAMMA)
        expected = sum(GAMMA**k * r for k, r in enumerate(rewards)) + tail
        assert batch["return"][i] == pytest.approx(expected, abs=1e-5)
    # relabelled goals reached by the row's own transition and held: the best return, 0
    assert np.any(batch["return"] == 0.0) and np.any(batch["return"] < -1.0)
    plain = make_sample_her_transitions("future", 4, reward)(episodes, 10, rng)
    assert "return" not in plain


def test_demo_rows_keep_their_returns_in_the_batch_and_agent_rows_do_not_have_one():
    rng = np.random.default_rng(4)
    reward = PointGoalEnv().compute_reward
    episodes = make_episodes(2, 5, rng)
    agent = make_sample_her_transitions("future", 4, reward)(episodes, 6, rng)
    demo = make_sample_her_transitions("future", 4, reward, return_gamma=GAMMA)(episodes, 4, rng)
    batch = concat_batches(agent, demo)
    np.testing.assert_array_equal(batch["return"][6:], demo["return"])
    assert batch["is_demo"].tolist() == [False] * 6 + [True] * 4
    assert "return" not in concat_batches(agent, None)


def learner_and_batch(q_filter_return: bool, demo_return: float):
    cfg = DDPGConfig(
        hidden=16, layers=2, bc_loss=True, q_filter=True, q_filter_return=q_filter_return
    )
    learner = DDPG(Dims(5, 2, 2), 1.0, cfg, gamma=0.9, seed=0)
    # values about -5, as a critic that has learnt the -1 step reward: between the clip (-10)
    # and the best return (0)
    learner.main.critic.layers[-1].bias.assign([-5.0])
    rng = np.random.default_rng(5)
    n = 64
    batch = {
        "o": rng.normal(size=(n, 5)),
        "g": rng.normal(size=(n, 2)),
        "u": rng.uniform(-1, 1, (n, 2)),
        "r": -np.ones(n),
        "o_2": rng.normal(size=(n, 5)),
        "is_demo": rng.random(n) < 0.5,
        "return": np.full(n, demo_return, np.float32),
    }
    return learner, learner.prepare_batch(batch)


@pytest.mark.parametrize("demo_return", [0.0, -0.5, -100.0])
def test_the_filter_keeps_a_demo_row_when_either_q_or_its_return_beats_the_actor(demo_return):
    learner, tensors = learner_and_batch(True, demo_return)
    o, g, u, _, _, is_demo, _ = (np.asarray(x) for x in tensors)
    q_demo = learner.main.q(o, g, u).numpy()
    q_pi = learner.main.q(o, g, learner.main.pi(o, g)).numpy()
    recorded = np.clip(demo_return, -learner.clip_return, 0.0)  # -100 is clipped to -10
    expected = is_demo & (np.maximum(q_demo, recorded) > q_pi)
    stats = learner._losses(*tensors)[2]
    assert float(stats["q_filter_frac"]) == pytest.approx(expected.sum() / is_demo.sum())
    seed_filter = is_demo & (q_demo > q_pi)
    assert 0 < seed_filter.sum() < is_demo.sum()
    if demo_return == -100.0:  # a return below every value changes nothing
        assert expected.sum() == seed_filter.sum()
    else:  # a return above every value keeps every demo row
        assert expected.sum() == is_demo.sum()


def test_without_the_option_the_recorded_return_is_not_read():
    with_best, tensors = learner_and_batch(False, 0.0)
    o, g, u, _, _, is_demo, _ = (np.asarray(x) for x in tensors)
    q_demo = with_best.main.q(o, g, u).numpy()
    q_pi = with_best.main.q(o, g, with_best.main.pi(o, g)).numpy()
    stats = with_best._losses(*tensors)[2]
    seed_filter = is_demo & (q_demo > q_pi)
    assert float(stats["q_filter_frac"]) == pytest.approx(seed_filter.sum() / is_demo.sum())
    on, on_tensors = learner_and_batch(True, 0.0)
    assert float(on._losses(*on_tensors)[2]["q_filter_frac"]) == 1.0 > float(stats["q_filter_frac"])
