"""The one episode loop: numbered episodes for play, evaluation and analysis."""

import numpy as np

from herdemos.env_info import EnvInfo
from herdemos.rollout import RolloutWorker, Step, run_episodes

from point_env import PointGoalEnv

INFO = EnvInfo("point", 2, 2, 2, horizon=10, max_u=1.0)


class TowardGoal:
    """A scripted action source: full speed toward the goal, clipped by the worker."""

    def reset(self, obs):
        pass

    def __call__(self, obs):
        return 20.0 * (obs["desired_goal"] - obs["observation"])


def test_the_same_seed_is_the_same_episode_whatever_ran_before():
    first = list(run_episodes(PointGoalEnv(), INFO, TowardGoal(), 5, 3))
    again = list(run_episodes(PointGoalEnv(), INFO, TowardGoal(), 6, 2))
    for a, b in zip(first[1:], again, strict=True):
        for key in a.episodes:
            np.testing.assert_array_equal(a.episodes[key], b.episodes[key])
    env = PointGoalEnv()
    start, _ = env.reset(seed=6)
    np.testing.assert_array_equal(
        again[0].episodes["o"][0, 0], start["observation"].astype(np.float32)
    )


def test_steps_show_the_envs_own_observations_and_the_clipped_actions():
    steps: list[Step] = []
    (rollout,) = run_episodes(PointGoalEnv(), INFO, TowardGoal(), 0, 1, steps.append)
    assert [s.t for s in steps] == list(range(INFO.horizon))
    assert steps[0].obs["observation"].dtype == np.float64  # not the batch's float32 copy
    for step, following in zip(steps, steps[1:], strict=False):
        assert step.next_obs is following.obs
    assert all(np.abs(s.u).max() <= 1.0 for s in steps)
    np.testing.assert_array_equal(np.stack([s.u[0] for s in steps]), rollout.episodes["u"][0])
    success = [s.infos[0]["is_success"] for s in steps]
    np.testing.assert_array_equal(success, rollout.episodes["info_is_success"][0, :, 0])


class BlowsUp(PointGoalEnv):
    def step(self, action):
        obs, reward, done, cut, info = super().step(action)
        obs["observation"][:] = np.nan
        return obs, reward, done, cut, info


def test_training_drops_a_non_finite_episode_but_evaluation_counts_it():
    worker = RolloutWorker([BlowsUp()], INFO, 0, np.random.default_rng(0))
    assert worker.generate_rollouts(TowardGoal()).n_discarded == 1
    (kept,) = run_episodes(BlowsUp(), INFO, TowardGoal(), 0, 1)
    assert kept.n_discarded == 0 and len(kept.episodes["o"]) == 1
