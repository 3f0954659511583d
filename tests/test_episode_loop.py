"""The one episode loop: numbered episodes for play, evaluation and analysis."""

import numpy as np

from herdemos.env_info import EnvInfo
from herdemos.rollout import RolloutWorker, Step, run_episodes

from point_env import PointGoalEnv, TerminatingPointEnv

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


def test_an_env_that_terminates_is_not_stepped_again_and_holds_its_final_state():
    """HER episodes have T steps; an env that ends one early stays in its final state (an
    absorbing state) instead of being stepped past its end."""
    env = TerminatingPointEnv()
    worker = RolloutWorker([env, PointGoalEnv()], INFO, 0, np.random.default_rng(0))
    # Seed 6 puts the goal 0.34 away: reached, at 0.1 per step, well within the 10 steps.
    rollout = worker.generate_rollouts(TowardGoal(), seeds=[6, 6])
    end = env.steps
    assert 0 < end < INFO.horizon and rollout.n_terminated == 1
    held = rollout.episodes["ag"][0, end:]
    np.testing.assert_array_equal(held, np.repeat(held[:1], len(held), axis=0))
    assert (rollout.episodes["info_is_success"][0, end - 1 :] == 1).all()
    # The env that does not terminate ran the same episode to step T, past the goal's reach.
    np.testing.assert_array_equal(
        rollout.episodes["ag"][1, : end + 1], rollout.episodes["ag"][0, : end + 1]
    )
    assert rollout.n_steps == 2 * INFO.horizon
