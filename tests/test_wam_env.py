"""The Barrett WAM-like arm envs: model, kinematics, spaces, rewards, control and scripted demos."""

import math
import warnings

import gymnasium as gym
import mujoco
import numpy as np
import pytest

import herdemos.envs as herdemos_envs  # importing registers the WAM ids
from herdemos.data_generation.controllers import (
    PickAndPlaceController,
    ReachController,
    StackController,
    make_controller,
)
from herdemos.data_generation.controllers.stack_plan import NEIGHBOUR_REACH, hand_reach
from herdemos.envs.wam import GRIP_DOWN, START_GRIP
from herdemos.envs.wam_model import (
    FLANGE_TO_FINGERS,
    GRIP_OFFSET,
    SHOULDER_POS,
    WAM_DH,
    WAM_JOINT_LIMITS,
    WAM_JOINTS,
    DHRow,
)
from herdemos.sim_state import get_sim_state

# id: (observation size, goal size, horizon)
SPECS = {
    "WAMReach-v0": (10, 3, 50),
    "WAMPickAndPlace-v0": (25, 3, 50),
    "WAMStack2-v1": (40, 6, 100),
    "WAMStack4-v1": (70, 12, 200),
}
STEP_REWARD_IDS = tuple(f"WAMStack{n}-Step-v1" for n in (2, 4))

TABLE_TOP = 0.4

# Corners and centre of the region where blocks and goals are sampled (Fetch's: 15 cm around
# the start grip position, from a block resting on the table to 45 cm above it).
WORKSPACE = [
    np.array([x, y, z])
    for x in (1.19, 1.49)
    for y in (0.6, 0.9)
    for z in (TABLE_TOP + 0.025, TABLE_TOP + 0.475)
] + [START_GRIP]


def make(env_id: str) -> gym.Env:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gym.make(env_id)


def joint_margin(model: mujoco.MjModel, data: mujoco.MjData) -> float:
    """Smallest distance (radians) of an arm joint from either end of its range."""
    q = np.array([data.joint(name).qpos[0] for name in WAM_JOINTS])
    limits = np.array(WAM_JOINT_LIMITS)
    return float(np.min(np.minimum(q - limits[:, 0], limits[:, 1] - q)))


def arm_table_contacts(model: mujoco.MjModel, data: mujoco.MjData) -> list[str]:
    """Robot bodies other than the fingers that touch the table."""
    table = model.body("table0").id
    touching = []
    for contact in data.contact[: data.ncon]:
        bodies = {model.geom_bodyid[contact.geom1], model.geom_bodyid[contact.geom2]}
        if table in bodies:
            name = model.body((bodies - {table}).pop()).name
            if name.startswith("robot0:") and "finger" not in name:
                touching.append(name)
    return touching


def grip_tilt_degrees(model: mujoco.MjModel, data: mujoco.MjData) -> float:
    """Angle between the gripper's approach axis and straight down."""
    approach = data.xmat[model.body("robot0:gripper_link").id].reshape(3, 3)[:, 0]
    return math.degrees(math.acos(np.clip(-approach[2], -1.0, 1.0)))


def settle_grip_at(env: gym.Env, target: np.ndarray) -> None:
    """Resets, moves the mocap so the grip is pulled to ``target`` pointing down, and waits
    1.2 s, checking on the way that no arm part touches the table."""
    u = env.unwrapped
    u.reset(seed=0)
    u.data.mocap_pos[0] = target + np.array([0.0, 0.0, GRIP_OFFSET])
    u.data.mocap_quat[0] = GRIP_DOWN / np.linalg.norm(GRIP_DOWN)
    for _ in range(30):
        mujoco.mj_step(u.model, u.data, nstep=u.n_substeps)
        assert not arm_table_contacts(u.model, u.data)


def dh_transform(row: DHRow, theta: float) -> np.ndarray:
    """Standard DH: rotate theta about z, move d along z and a along x, rotate alpha about x."""
    ct, st, ca, sa = math.cos(theta), math.sin(theta), math.cos(row.alpha), math.sin(row.alpha)
    return np.array(
        [
            [ct, -st * ca, st * sa, row.a * ct],
            [st, ct * ca, -ct * sa, row.a * st],
            [0.0, sa, ca, row.d],
            [0.0, 0.0, 0.0, 1.0],
        ]
    )


def test_model_is_primitive_with_fetch_names_and_wam_limits():
    u = make("WAMStack2-v1").unwrapped
    model = u.model
    assert model.nmesh == 0  # capsules, cylinders and boxes only
    assert model.body("robot0:mocap").mocapid[0] >= 0
    assert model.site("robot0:grip").id >= 0
    for i, name in enumerate(WAM_JOINTS):
        joint = model.joint(name)
        assert joint.type[0] == mujoco.mjtJoint.mjJNT_HINGE
        np.testing.assert_allclose(joint.range, WAM_JOINT_LIMITS[i])
    # gymnasium-robotics reads the fingers as the last two joints named robot...
    robot_joints = [n for n in u._model_names.joint_names if n.startswith("robot")]
    assert robot_joints == [
        *WAM_JOINTS,
        "robot0:r_gripper_finger_joint",
        "robot0:l_gripper_finger_joint",
    ]


def test_kinematics_follow_the_dh_table():
    u = make("WAMReach-v0").unwrapped
    model, data = u.model, u.data
    rng = np.random.default_rng(0)
    limits = np.array(WAM_JOINT_LIMITS)
    for _ in range(5):
        angles = rng.uniform(limits[:, 0], limits[:, 1])
        for name, angle in zip(WAM_JOINTS, angles, strict=True):
            data.joint(name).qpos[0] = angle
        mujoco.mj_kinematics(model, data)
        frame = np.eye(4)
        frame[:3, 3] = SHOULDER_POS
        for i, (row, angle) in enumerate(zip(WAM_DH, angles, strict=True)):
            # link i + 1's body frame is DH frame i before its joint turns it: same origin
            np.testing.assert_allclose(data.body(f"robot0:wam_link{i + 1}").xpos, frame[:3, 3])
            frame = frame @ dh_transform(row, angle)
        fingers = frame[:3, 3] + FLANGE_TO_FINGERS * frame[:3, 2]
        np.testing.assert_allclose(data.body("robot0:gripper_link").xpos, fingers, atol=1e-9)


@pytest.mark.parametrize("env_id", SPECS)
def test_observation_goal_shapes_and_horizon(env_id):
    dim_o, dim_g, horizon = SPECS[env_id]
    env = make(env_id)
    assert env.spec.max_episode_steps == horizon
    obs, _ = env.reset(seed=0)
    assert obs["observation"].shape == (dim_o,)
    assert obs["achieved_goal"].shape == obs["desired_goal"].shape == (dim_g,)
    for key, value in obs.items():
        assert env.observation_space[key].shape == value.shape
    # Fetch layout: grip position first, every episode from the same start grip position
    np.testing.assert_allclose(obs["observation"][:3], START_GRIP, atol=1e-3)
    goals = obs["desired_goal"].reshape(-1, 3)
    assert np.all(goals[:, 2] >= TABLE_TOP + 0.02)  # above the table


def test_reach_goals_lie_above_the_table_near_the_start():
    env = make("WAMReach-v0")
    goals = np.array([env.reset(seed=seed)[0]["desired_goal"] for seed in range(30)])
    assert np.all(np.abs(goals - START_GRIP) <= 0.15 + 1e-9)
    assert goals[:, 2].min() >= TABLE_TOP + 0.05 - 1e-9


@pytest.mark.parametrize("env_id", SPECS)
def test_compute_reward_is_vectorised(env_id):
    _, dim_g, _ = SPECS[env_id]
    u = make(env_id).unwrapped
    rng = np.random.default_rng(0)
    desired = rng.uniform(0.4, 1.2, size=(64, dim_g))
    achieved = desired + rng.normal(scale=0.02, size=(64, dim_g))  # a mix of reached and not
    batch = u.compute_reward(achieved, desired, {})
    single = np.array([u.compute_reward(a, d, {}) for a, d in zip(achieved, desired, strict=True)])
    assert batch.shape == (64,)
    np.testing.assert_array_equal(batch, single)
    assert set(np.unique(batch)) == {-1.0, 0.0}
    success = np.array([u._is_success(a, d) for a, d in zip(achieved, desired, strict=True)])
    np.testing.assert_array_equal(success, batch + 1.0)  # Fetch's rule: success iff reward 0
    grid = u.compute_reward(achieved.reshape(8, 8, dim_g), desired.reshape(8, 8, dim_g), {})
    np.testing.assert_array_equal(grid, batch.reshape(8, 8))


@pytest.mark.parametrize("env_id", ["WAMPickAndPlace-v0", "WAMStack4-v1"])
def test_same_seed_same_start_and_different_seed_different_start(env_id):
    env = make(env_id)
    first, _ = env.reset(seed=7)
    state = get_sim_state(env)
    for _ in range(5):
        env.step(env.action_space.sample())
    again, _ = env.reset(seed=7)
    np.testing.assert_array_equal(get_sim_state(env), state)
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
    other, _ = env.reset(seed=8)
    assert not np.allclose(first["achieved_goal"], other["achieved_goal"])
    assert not np.allclose(first["desired_goal"], other["desired_goal"])


@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_actions_move_the_grip_along_their_axis(axis, sign):
    env = make("WAMPickAndPlace-v0")
    obs, _ = env.reset(seed=0)
    start = obs["observation"][:3].copy()
    action = np.zeros(4, np.float32)
    action[axis] = sign
    for _ in range(3):
        obs, *_ = env.step(action)
    moved = obs["observation"][:3] - start
    assert sign * moved[axis] > 0.08  # up to 5 cm per step, about 3 cm covered per step
    assert np.all(np.abs(np.delete(moved, axis)) < 0.005)


def test_grip_reaches_the_mocap_target_everywhere_in_the_workspace():
    """The welded grip settles within 1 cm of the mocap at the corners of the sampling region,
    pointing down, without touching the table or coming near a joint limit."""
    env = make("WAMReach-v0")
    model, data = env.unwrapped.model, env.unwrapped.data
    for target in WORKSPACE:
        settle_grip_at(env, target)
        assert np.linalg.norm(data.site("robot0:grip").xpos - target) < 0.01, target
        assert grip_tilt_degrees(model, data) < 1.0
        assert joint_margin(model, data) > 0.3


def test_gripper_opens_and_closes_and_is_blocked_in_reach():
    env = make("WAMPickAndPlace-v0")
    env.reset(seed=0)
    for command, low, high in [(1.0, 0.045, 0.051), (-1.0, -0.001, 0.005)]:
        for _ in range(5):
            obs, *_ = env.step(np.array([0.0, 0.0, 0.0, command], np.float32))
        assert np.all((low <= obs["observation"][9:11]) & (obs["observation"][9:11] <= high))
    reach = make("WAMReach-v0")
    reach.reset(seed=0)
    for _ in range(5):
        obs, *_ = reach.step(np.array([0.0, 0.0, 0.0, 1.0], np.float32))
    np.testing.assert_allclose(obs["observation"][3:5], 0.0, atol=1e-6)


def test_make_controller_maps_the_wam_ids():
    assert isinstance(make_controller("WAMReach-v0"), ReachController)
    assert isinstance(make_controller("WAMPickAndPlace-v0"), PickAndPlaceController)
    assert isinstance(make_controller("WAMStack2-v1"), StackController)
    assert isinstance(make_controller("WAMStack4-v1"), StackController)


def test_wam_hand_fits_the_stacking_controllers_hand_model():
    """The stacking controller plans with Fetch's hand extents. Wherever the WAM grasps a block on
    the table, no part of it but the finger pads (Fetch's own) that comes below the top of a
    4-block tower may reach farther sideways from the grip than those extents."""
    env = make("WAMReach-v0")
    model, data = env.unwrapped.model, env.unwrapped.data
    tower_top = 3 * 0.05 - 0.025  # above the grip site, which is at the centre of a table block
    reach = hand_reach(4) - NEIGHBOUR_REACH
    for target in WORKSPACE:
        if target[2] > TABLE_TOP + 0.05:
            continue
        settle_grip_at(env, target)
        grip = data.site("robot0:grip").xpos
        for geom in range(model.ngeom):
            name = model.body(model.geom_bodyid[geom]).name
            if not name.startswith("robot0:") or "finger" in name or not model.geom_contype[geom]:
                continue
            rotation = data.geom_xmat[geom].reshape(3, 3)
            centre = data.geom_xpos[geom] + rotation @ model.geom_aabb[geom, :3]
            half = np.abs(rotation) @ model.geom_aabb[geom, 3:]
            if centre[2] - half[2] - grip[2] < tower_top:
                extent = np.abs(centre[:2] - grip[:2]) + half[:2]
                assert np.all(extent <= reach + 1e-6), (name, extent, reach)


@pytest.mark.parametrize("env_id", ["WAMReach-v0", "WAMPickAndPlace-v0", "WAMStack2-v1"])
def test_scripted_controller_succeeds_without_arm_table_contact(env_id):
    env = make(env_id)
    u = env.unwrapped
    for seed in range(3):
        controller = make_controller(env_id)
        obs, _ = env.reset(seed=seed)
        controller.reset(obs)
        for _ in range(env.spec.max_episode_steps):
            obs, _, _, _, info = env.step(controller.act(obs))
            assert not arm_table_contacts(u.model, u.data)
            assert joint_margin(u.model, u.data) > 0.1
        assert info["is_success"] == 1.0, (env_id, seed)


def test_registration_is_idempotent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # gymnasium warns when an id is overridden
        herdemos_envs.register_wam_envs()
    assert set(herdemos_envs.WAM_ENV_IDS) == set(SPECS) | set(STEP_REWARD_IDS)
    assert set(herdemos_envs.WAM_ENV_IDS) <= set(gym.registry)


def test_step_reward_stacking_ids_count_the_blocks_not_placed():
    """``WAMStackN-Step`` is the same task as ``WAMStackN`` (same horizon, same start from the
    same seed) with the paper's step reward: minus one per block farther than 5 cm from its
    target, vectorised as HER needs it."""
    for n in (2, 4):
        sparse, step = make(f"WAMStack{n}-v1"), make(f"WAMStack{n}-Step-v1")
        assert step.spec.max_episode_steps == sparse.spec.max_episode_steps == 50 * n
        for key, value in sparse.reset(seed=3)[0].items():
            np.testing.assert_array_equal(step.reset(seed=3)[0][key], value)
    u = make("WAMStack4-Step-v1").unwrapped
    desired = np.tile(np.arange(12, dtype=float), (5, 1))
    achieved = desired.copy()
    for misplaced in range(5):  # sample k: its first k blocks 6 cm off target, the rest placed
        achieved[misplaced, : 3 * misplaced : 3] += 0.06
    np.testing.assert_array_equal(u.compute_reward(achieved, desired, {}), [0, -1, -2, -3, -4])
    single = [u.compute_reward(a, d, {}) for a, d in zip(achieved, desired, strict=True)]
    np.testing.assert_array_equal(single, [0, -1, -2, -3, -4])
    assert [u._is_success(a, d) for a, d in zip(achieved, desired, strict=True)] == [1, 0, 0, 0, 0]
    assert isinstance(make_controller("WAMStack2-Step-v1"), StackController)
