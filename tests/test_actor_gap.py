"""benchmarks.actor_gap measures how far an actor's action is from the best one its critic knows."""

import json

import numpy as np
from cli_asserts import assert_one_line_error
from click.testing import CliRunner

from benchmarks.actor_gap import actor_gaps, episode_gaps, main, summarise
from herdemos.environment import make_env
from herdemos.policy import Policy, load_policy

W = np.array([3.0, -1.0], np.float32)  # the critic: Q(s, u) = W . u / max_u, best at sign(W)


def linear_policy(actor_bias, env_id="X-v0"):
    """A 2-D point policy: o and g 2-D each, a constant actor, a critic linear in the action."""
    zeros, ones = np.zeros(2, np.float32), np.ones(2, np.float32)
    actor = [np.zeros((4, 2), np.float32), np.asarray(actor_bias, np.float32)]
    critic_kernel = np.zeros((6, 1), np.float32)
    critic_kernel[4:, 0] = W
    critic = [critic_kernel, np.zeros(1, np.float32)]
    return Policy(actor, critic, zeros, ones, zeros, ones, 200.0, 5.0, 1.0, {"env_id": env_id})


STATES = np.random.default_rng(0).uniform(-1, 1, (20, 2))


def test_an_actor_on_zero_actions_misses_what_its_critic_offers():
    policy = linear_policy([0.0, 0.0])
    gaps, best = actor_gaps(policy, STATES, STATES, 512, np.random.default_rng(1))
    # Q(pi) = 0; the best of 512 uniform actions comes close to the maximum, |3| + |-1| = 4.
    assert gaps.shape == (20,) and best.shape == (20, 2)
    assert np.all(gaps > 3.5) and np.all(gaps <= 4.0 + 1e-5)
    # The critic's best action is the random one it rated highest: Q(best) = Q(pi) + gap.
    np.testing.assert_allclose(policy.q_value(STATES, STATES, best), gaps, rtol=1e-5)
    assert np.all(best[:, 0] > 0.5) and np.all(best[:, 1] < 0)


def test_an_actor_on_its_critics_best_action_has_no_gap():
    best = linear_policy([20.0, -20.0])  # tanh saturates at sign(W)
    gaps, chosen = actor_gaps(best, STATES, STATES, 512, np.random.default_rng(1))
    assert np.all(gaps <= 1e-5) and np.all(gaps > -0.5)
    # No random action beats pi(s), so pi(s) is the critic's choice.
    np.testing.assert_allclose(chosen, best.deterministic(STATES, STATES))


def test_given_actor_actions_are_used_instead_of_a_second_actor_pass():
    policy = linear_policy([0.0, 0.0])
    own = policy.deterministic(STATES, STATES)
    np.testing.assert_allclose(
        actor_gaps(policy, STATES, STATES, 64, np.random.default_rng(3), pi=own)[0],
        actor_gaps(policy, STATES, STATES, 64, np.random.default_rng(3))[0],
    )
    # Measured against the critic's own best corner (Q = 4), no random action is better.
    corner = np.tile([1.0, -1.0], (len(STATES), 1))
    gaps, chosen = actor_gaps(policy, STATES, STATES, 64, np.random.default_rng(3), pi=corner)
    assert np.all(gaps <= 0) and np.all(chosen == corner)


def test_summary_counts_states_with_a_gap_above_one_step_of_reward():
    s = summarise([np.array([0.0, 2.0]), np.array([0.5, 3.0, 4.5])])
    assert s == {
        "episodes": 2,
        "states": 5,
        "mean_gap": 2.0,
        "median_gap": 2.0,
        "share_gap_above_1": 0.6,
    }
    assert summarise([]) == {"episodes": 0, "states": 0}


def test_episodes_on_a_goal_env_are_split_by_success(tmp_path):
    policy_file = tmp_path / "policy.pkl"
    linear_policy([0.0, 0.0], env_id="point_env:PointGoalEnv").save(policy_file)
    out = tmp_path / "gap.json"
    result = CliRunner().invoke(
        main,
        [str(policy_file), "--env", "point_env:PointGoalEnv", "--episodes", "3", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(out.read_text())
    # A standing point never reaches a goal drawn elsewhere: every episode fails, 10 states each.
    assert payload["failed_episodes"]["episodes"] == 3
    assert payload["successful_episodes"]["episodes"] == 0
    assert payload["all"]["states"] == 30
    assert payload["all"]["mean_gap"] > 3.0
    assert payload["acting"] == "actor" and payload["success_rate"] == 0.0


def test_following_the_critic_acts_on_its_best_action(tmp_path):
    """The linear critic prefers moving along (+x, -y): the point's path shows which one acted."""
    policy_file = tmp_path / "policy.pkl"
    linear_policy([0.0, 0.0], env_id="point_env:PointGoalEnv").save(policy_file)
    env = make_env("point_env:PointGoalEnv")
    start, _ = env.reset(seed=5)
    gaps, _ = episode_gaps(env, load_policy(policy_file), 5, 256, np.random.default_rng(0), True)
    moved = env.unwrapped.pos - start["observation"]
    assert len(gaps) == 10 and moved[0] > 0.3 and moved[1] < 0
    gaps, _ = episode_gaps(env, load_policy(policy_file), 5, 256, np.random.default_rng(0))
    np.testing.assert_allclose(env.unwrapped.pos, start["observation"])  # the actor stands still
    out = tmp_path / "gap.json"
    args = [str(policy_file), "--env", "point_env:PointGoalEnv", "--episodes", "2"]
    result = CliRunner().invoke(main, [*args, "--follow_critic", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["acting"] == "critic's best action"


def test_an_entry_point_env_in_the_file_is_refused_unless_named(tmp_path):
    policy_file = tmp_path / "policy.pkl"
    linear_policy([0.0, 0.0], env_id="point_env:PointGoalEnv").save(policy_file)
    result = CliRunner().invoke(main, [str(policy_file), "--out", str(tmp_path / "gap.json")])
    assert_one_line_error(result, str(policy_file), "module:Name", "--env")
    assert not (tmp_path / "gap.json").exists()


def test_a_bad_out_is_refused_before_the_policy_is_read(tmp_path):
    policy_file = tmp_path / "policy.pkl"
    linear_policy([0.0, 0.0]).save(policy_file)
    result = CliRunner().invoke(main, [str(policy_file), "--out", str(tmp_path / "gap.txt")])
    assert_one_line_error(result, "--out", "must end in .json")
    result = CliRunner().invoke(main, [str(policy_file), "--out", str(policy_file)])
    assert_one_line_error(result, "--out", "is the policy file being read")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["policy.pkl"]


def test_a_policy_for_another_env_is_refused_in_one_line(tmp_path):
    policy_file = tmp_path / "policy.pkl"
    linear_policy([0.0, 0.0]).save(policy_file)
    result = CliRunner().invoke(main, [str(policy_file), "--env", "FetchReach-v4"])
    assert_one_line_error(result, str(policy_file), "dims do not fit FetchReach-v4")


def test_a_spread_keeps_the_other_actions_near_the_actors():
    policy = linear_policy([0.0, 0.0])  # pi(s) = 0
    gaps, best = actor_gaps(policy, STATES, STATES, 64, np.random.default_rng(2), spread=0.05)
    # Within 4 std (0.2) of pi(s) = 0 the critic gains at most 3 * 0.2 + 0.2 = 0.8.
    assert np.all(np.abs(best) < 0.25) and np.all(gaps > 0) and np.all(gaps < 0.8)


def test_a_policy_naming_no_env_asks_for_env(tmp_path):
    policy_file = tmp_path / "policy.pkl"
    linear_policy([0.0, 0.0], env_id="").save(policy_file)
    result = CliRunner().invoke(main, [str(policy_file)])
    assert_one_line_error(result, str(policy_file), "names no env; pass --env")
