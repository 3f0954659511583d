"""FetchStackN envs: spaces, rewards, seeding, horizon, registration, and the scripted stacker."""

import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest

import herdemos.envs as stack_envs  # importing registers the FetchStack ids
from herdemos.data_generation.controllers import StackController, make_controller
from herdemos.util import HerdemosError

BLOCK = 0.05


def make(env_id: str) -> gym.Env:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gym.make(env_id)


def tower(n: int, base=(1.3, 0.75, 0.425)) -> np.ndarray:
    """A flat (3N,) tower goal with block i at ``base + i * 5 cm`` in z."""
    return (np.array(base) + np.arange(n)[:, None] * np.array([0.0, 0.0, BLOCK])).ravel()


@pytest.mark.parametrize("n", [2, 3])
def test_observation_and_goal_shapes(n):
    env = make(f"FetchStack{n}-v1")
    obs, _ = env.reset(seed=0)
    assert obs["observation"].shape == (10 + 15 * n,)
    assert obs["achieved_goal"].shape == obs["desired_goal"].shape == (3 * n,)
    assert env.unwrapped.goal.shape == (3 * n,)
    for key, value in obs.items():
        assert env.observation_space[key].shape == value.shape
    # achieved goal = block positions, also at offsets 10 + 15 i of the observation
    positions = obs["observation"][10:].reshape(n, 15)[:, :3]
    np.testing.assert_allclose(positions.ravel(), obs["achieved_goal"])
    # the tower goal: one block edge per level, base on the table where the blocks rest
    goal = obs["desired_goal"].reshape(n, 3)
    np.testing.assert_allclose(np.diff(goal, axis=0), np.tile([0.0, 0.0, BLOCK], (n - 1, 1)))
    np.testing.assert_allclose(goal[0, 2], positions[:, 2].min(), atol=1e-3)


def test_initial_blocks_do_not_overlap():
    env = make("FetchStack6-v1")
    for seed in range(5):
        obs, _ = env.reset(seed=seed)
        xy = obs["achieved_goal"].reshape(6, 3)[:, :2]
        gaps = np.linalg.norm(xy[:, None] - xy[None], axis=-1) + np.eye(6)
        assert gaps.min() >= 0.07 - 1e-9


@pytest.mark.parametrize(
    ("reward_type", "env_id"), [("sparse", "FetchStack3-v1"), ("step", "FetchStack3-Step-v1")]
)
def test_reward_and_success_on_hand_set_goals(reward_type, env_id):
    env = make(env_id)
    u = env.unwrapped
    assert u.reward_type == reward_type
    goal = tower(3)
    placed = goal + np.tile([0.03, -0.02, 0.01], 3)  # every block 3.7 cm off: placed
    one_off = placed.copy()
    one_off[3] += 0.03  # block 1 now 5.9 cm off
    two_off = one_off.copy()
    two_off[8] += 0.2  # block 2 far above its target
    expected = {"sparse": [0.0, -1.0, -1.0], "step": [0.0, -1.0, -2.0]}[reward_type]
    rewards = [float(u.compute_reward(a, goal, {})) for a in (placed, one_off, two_off)]
    assert rewards == expected
    assert [float(u._is_success(a, goal)) for a in (placed, one_off, two_off)] == [1.0, 0.0, 0.0]

    # through step(): blocks at rest on the table, goal set by hand
    obs, _ = env.reset(seed=1)
    u.goal = obs["achieved_goal"].copy()
    _, reward, _, _, info = env.step(np.zeros(4, np.float32))
    assert info["is_success"] == 1.0 and reward == 0.0
    u.goal = obs["achieved_goal"] + np.r_[np.zeros(6), 0.1, 0.0, 0.0]
    _, reward, _, _, info = env.step(np.zeros(4, np.float32))
    assert info["is_success"] == 0.0 and reward == -1.0


@pytest.mark.parametrize("env_id", ["FetchStack3-v1", "FetchStack3-Step-v1"])
def test_compute_reward_is_vectorised(env_id):
    u = make(env_id).unwrapped
    rng = np.random.default_rng(0)
    desired = rng.uniform(-0.2, 0.2, size=(64, 9))
    achieved = desired + rng.normal(scale=0.03, size=(64, 9))  # a mix of placed and not
    batch = u.compute_reward(achieved, desired, {})
    single = np.array([u.compute_reward(a, d, {}) for a, d in zip(achieved, desired, strict=True)])
    assert batch.shape == (64,)
    np.testing.assert_array_equal(batch, single)
    assert len(np.unique(batch)) > 1
    # also over two leading axes, as HER's (episodes, time) arrays
    grid = u.compute_reward(achieved.reshape(8, 8, 9), desired.reshape(8, 8, 9), {})
    np.testing.assert_array_equal(grid, batch.reshape(8, 8))


def test_same_seed_same_start_and_different_seed_different_start():
    env = make("FetchStack3-v1")
    first, _ = env.reset(seed=7)
    env.step(env.action_space.sample())
    again, _ = env.reset(seed=7)
    other, _ = env.reset(seed=8)
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
    assert not np.allclose(first["achieved_goal"], other["achieved_goal"])
    assert not np.allclose(first["desired_goal"], other["desired_goal"])


def test_episode_length_is_50_steps_per_block():
    for n in range(2, 7):
        for suffix in ("", "-Step"):
            assert gym.spec(f"FetchStack{n}{suffix}-v1").max_episode_steps == 50 * n
    env = make("FetchStack2-v1")
    env.reset(seed=0)
    truncated, steps = False, 0
    while not truncated:
        *_, truncated, _ = env.step(np.zeros(4, np.float32))
        steps += 1
    assert steps == 100


def test_registration_is_idempotent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # gymnasium warns when an id is overridden
        stack_envs.register_stack_envs()
    assert set(stack_envs.STACK_ENV_IDS) <= set(gym.registry)
    # N = 2..6, sparse and step reward
    assert len(stack_envs.STACK_ENV_IDS) == 10


def test_import_herdemos_registers_the_ids_without_loading_mujoco():
    """``import herdemos`` stays cheap: ids are registered by entry-point strings, and the env
    modules (info, checks, simulator state) import MuJoCo only when used."""
    code = (
        "import sys, gymnasium as gym, herdemos\n"
        "import herdemos.env_checks, herdemos.env_info, herdemos.policy_env, herdemos.sim_state\n"
        "ids = ('FetchPush-v4', 'FetchStack2-Step-v1', 'WAMStack2-v1')\n"
        "assert all(i in gym.registry for i in ids)\n"
        "heavy = ('mujoco', 'gymnasium_robotics', 'tensorflow')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_make_controller_matches_every_stack_id():
    for env_id in ("FetchStack2-v1", "FetchStack6-Step-v1", "FetchStack4-v1"):
        assert isinstance(make_controller(env_id), StackController)
    assert not isinstance(make_controller("FetchPickAndPlace-v4"), StackController)


def test_scripted_controller_stacks_two_blocks():
    env = make("FetchStack2-v1")
    successes = 0
    for seed in range(3):
        controller = make_controller("FetchStack2-v1")
        obs, _ = env.reset(seed=seed)
        controller.reset(obs)
        for _ in range(env.spec.max_episode_steps):
            action = controller.act(obs)
            assert action.shape == (4,) and action.dtype == np.float32
            assert np.all(np.abs(action) <= 1.0)
            obs, _, _, _, info = env.step(action)
        successes += int(info["is_success"])
    assert successes >= 2


def test_a_deliberately_missed_grasp_closes_on_nothing_and_is_recovered():
    """With miss_prob 1 every pick first closes above its block, then re-opens and grasps
    again; the tower still gets built, which is the recovery the demos are meant to show."""
    from herdemos.data_generation.controllers.stack_layout import parse_stack_obs

    env = make("FetchStack2-v1")
    controller = make_controller("FetchStack2-v1", np.random.default_rng(0), miss_prob=1.0)
    obs, _ = env.reset(seed=1)
    controller.reset(obs)
    empty_grasps = 0
    for _ in range(env.spec.max_episode_steps):
        obs, _, _, _, info = env.step(controller.act(obs))
        state = parse_stack_obs(obs)
        holding = np.linalg.norm(state.blocks - state.grip_pos, axis=1).min() < 0.02
        closed = state.finger_pos < StackController.MIN_GRASP_OPENING
        low = (state.grip_pos[2] - state.blocks[:, 2].min()) < 0.06
        empty_grasps += int(closed and low and not holding)
    assert info["is_success"]
    assert empty_grasps >= 2  # the fingers were shut on nothing near the blocks
    with pytest.raises(HerdemosError, match="--miss_prob"):
        make_controller("FetchPickAndPlace-v4", np.random.default_rng(0), miss_prob=0.5)


@pytest.mark.parametrize(
    ("env_id", "worst"),
    [("FetchStack3-v1", -1.0), ("FetchStack3-Step-v1", -3.0), ("FetchPickAndPlace-v4", -1.0)],
)
def test_worst_step_reward_sets_the_return_floor(env_id, worst):
    """The step reward reaches -N per step, so its Q-values need a floor N times lower."""
    from herdemos.env_info import worst_step_reward
    from herdemos.environment import make_env

    env = make_env(env_id)
    assert worst_step_reward(env) == worst


@pytest.mark.parametrize("n", [2, 3, 6])
def test_every_block_starts_clear_of_the_tower_spot(n):
    """The tower base is drawn first and every block placed at least 12 cm from it, so no block
    is in the way of the tower or starts on its target; the starts are still seeded."""
    from herdemos.envs.stack import TOWER_CLEARANCE

    env = make(f"FetchStack{n}-v1")
    distances = []
    for seed in range(60):
        obs, _ = env.reset(seed=seed)
        blocks = obs["achieved_goal"].reshape(n, 3)[:, :2]
        base = obs["desired_goal"].reshape(n, 3)[0, :2]
        distances.append(np.linalg.norm(blocks - base, axis=-1).min())
    assert min(distances) >= TOWER_CLEARANCE - 1e-9
    assert min(distances) < TOWER_CLEARANCE + 0.05  # blocks still come close to the spot
    first, _ = env.reset(seed=3)
    again, _ = env.reset(seed=3)
    np.testing.assert_array_equal(first["desired_goal"], again["desired_goal"])
    np.testing.assert_array_equal(first["achieved_goal"], again["achieved_goal"])
    goal = first["desired_goal"].reshape(n, 3)
    np.testing.assert_allclose(np.diff(goal, axis=0), np.tile([0.0, 0.0, BLOCK], (n - 1, 1)))


@pytest.mark.parametrize("env_id", ["FetchStack2-v0", "FetchStack3-Step-v0", "WAMStack2-v0"])
def test_the_retired_v0_stacking_ids_are_not_registered(env_id):
    from herdemos.environment import make_env

    assert env_id not in gym.registry
    with pytest.raises(HerdemosError, match=rf"--env {env_id}: .*-v1"):
        make_env(env_id)
