"""Fetch block stacking with N blocks (``FetchStack2-v1`` ... ``FetchStack6-v1``).

The stacking task of Nair et al. (2018): N 5 cm blocks start at random, non-overlapping places on
the table, clear of the tower spot, and must be stacked into a tower at a random table location,
block 0 at the bottom.

The env reuses gymnasium-robotics' Fetch robot, table, meshes and control machinery
(:class:`MujocoFetchEnv`); only the scene (N blocks and N target sites), the observation, the goal
and the reward differ. The scene's MJCF is generated at construction and written to a temp file
that ``<include>``\\ s the installed package's ``shared.xml`` and ``robot.xml`` by absolute path,
so no asset is copied into this repository and the robot stays in sync with the installed
gymnasium-robotics.

The robot is a hook: the scene (:mod:`herdemos.envs.scene`) takes the robot's MJCF parts
(:class:`~herdemos.envs.scene.RobotMJCF`), and a subclass of :class:`FetchStackEnv` that
overrides ``_robot_mjcf``, ``robot_start`` and (if the robot's start differs from Fetch's)
``_env_setup`` stacks with another robot that has Fetch's mocap, grip site and finger names
(``herdemos.envs.wam.WAMStackEnv``).

Observation (``10 + 15 N`` floats): grip position (3), finger joint positions (2), grip
velocity (3), finger velocities (2); then per block its position (3), position relative to the
grip (3), Euler rotation (3), linear velocity (3) and angular velocity (3), both in the world
frame and multiplied by the env step ``dt`` as in Fetch. Unlike Fetch, the block's linear
velocity is *not* relative to the gripper.

Goals (``3 N`` floats): ``achieved_goal`` holds all block positions, ``desired_goal`` the tower
targets ``base + (0, 0, i * 0.05)`` with the base on the table.

Rewards (``reward_type``): ``"sparse"`` is -1 unless every block is within 5 cm of its target,
else 0; ``"step"`` is minus the number of blocks not within 5 cm (the paper's step reward).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from gymnasium.utils.ezpickle import EzPickle

from herdemos.envs import BLOCK_OBS, GRIPPER_OBS, MAX_BLOCKS, MIN_BLOCKS
from herdemos.envs.robotics import MujocoFetchEnv, rotations
from herdemos.envs.scene import (
    BLOCK_SIZE,
    RobotMJCF,
    fetch_robot_mjcf,
    parked_blocks_qpos,
    scene_xml,
    write_scene,
)
from herdemos.symmetry import AffineMap, Reflection

MIN_BLOCK_SEPARATION = 0.07
"""Minimum distance (metres) between initial block centres: 2 cm of free space between the faces,
so blocks never start touching and the fingers have a little room."""

MIN_GRIPPER_SEPARATION = 0.1
"""Minimum planar distance (metres) of a block from the gripper start, as in Fetch."""

TOWER_CLEARANCE = 0.12
"""Minimum planar distance (metres) of every block's start from the tower base. The spot is then
free: no block has to be cleared out of the way before the tower can be built, and no block
starts on its target. Drawn from the whole table, blocks often stood in the way, and the scripted
demos then held a parking move that the learner saw too rarely to copy (docs/retired.md)."""

SAMPLING_ATTEMPTS = 1000
"""Rejection-sampling draws per placement of all N blocks before it starts over; the feasible
area is much larger than N exclusion disks, so a restart is rare and the loop ends quickly."""

DISTANCE_THRESHOLD = 0.05
"""A block counts as placed within this distance (metres) of its target."""

RENDER_SIZE = 480
"""Rendered frame width and height (pixels) unless given: Gymnasium-Robotics' default."""

REWARD_TYPES = ("sparse", "step")

ROBOT_START = {
    "robot0:slide0": 0.405,
    "robot0:slide1": 0.48,
    "robot0:slide2": 0.0,
}
"""Robot base joints, as in gymnasium-robotics' Fetch envs."""


def blocks_placed(
    achieved_goal: np.ndarray, desired_goal: np.ndarray, threshold: float = DISTANCE_THRESHOLD
) -> np.ndarray:
    """Which blocks are within ``threshold`` of their targets.

    Args:
        achieved_goal: Block positions, shape ``(..., 3 N)``.
        desired_goal: Targets, same shape.
        threshold: Success radius (metres).

    Returns:
        Boolean array of shape ``(..., N)``.
    """
    achieved = np.asarray(achieved_goal, dtype=np.float64)
    desired = np.asarray(desired_goal, dtype=np.float64)
    if achieved.shape != desired.shape or achieved.shape[-1] % 3:
        raise ValueError(f"goal shapes {achieved.shape} and {desired.shape} do not match (..., 3N)")
    offsets = (achieved - desired).reshape(*achieved.shape[:-1], -1, 3)
    return np.linalg.norm(offsets, axis=-1) < threshold


def stack_reward(
    achieved_goal: np.ndarray,
    desired_goal: np.ndarray,
    reward_type: str = "sparse",
    threshold: float = DISTANCE_THRESHOLD,
) -> np.ndarray:
    """Vectorised stacking reward over any leading batch axes (HER relabels in batches).

    Args:
        achieved_goal: Block positions, shape ``(..., 3 N)``.
        desired_goal: Tower targets, same shape.
        reward_type: ``"sparse"`` (-1 unless all blocks are placed, else 0) or ``"step"`` (minus
            the number of blocks not placed).
        threshold: Success radius (metres) of each block.

    Returns:
        float32 rewards of shape ``(...)``.
    """
    missing = ~blocks_placed(achieved_goal, desired_goal, threshold)
    if reward_type == "sparse":
        return -missing.any(axis=-1).astype(np.float32)
    if reward_type == "step":
        return -missing.sum(axis=-1).astype(np.float32)
    raise ValueError(f"reward_type must be one of {REWARD_TYPES}, not {reward_type!r}")


def stack_reflection(n_blocks: int, axis: int, centre: float) -> Reflection:
    """The mirror image in the vertical plane ``x[axis] = centre`` (axis 0: x, 1: y), for the
    observation layout of the module docstring, the tower goals and Fetch's 4-D action.

    Positions are mirrored about the plane; relative positions, linear velocities and the action
    across it change sign. A reflection turns a rotation about its normal into itself and one
    about the other two axes into its inverse, so of the Euler angles (x, y, z) the two not along
    ``axis`` change sign; an angular velocity is a pseudovector, so the same two components
    change sign. Mirrored in the x-z plane (``axis=1``) the two fingers swap.
    """
    if axis not in (0, 1):
        raise ValueError(f"axis must be 0 (x) or 1 (y), not {axis}")
    other_rotations = [i for i in range(3) if i != axis]
    obs = AffineMap.identity(GRIPPER_OBS + BLOCK_OBS * n_blocks)
    obs = obs.mirror(axis, centre).negate(5 + axis)  # grip position, grip velocity
    if axis == 1:
        obs = obs.swap(3, 4).swap(8, 9)  # finger positions, finger velocities
    goal = AffineMap.identity(3 * n_blocks)
    for i in range(n_blocks):
        block = GRIPPER_OBS + BLOCK_OBS * i
        obs = obs.mirror(block + axis, centre).negate(block + 3 + axis, block + 9 + axis)
        obs = obs.negate(*(block + 6 + r for r in other_rotations))
        obs = obs.negate(*(block + 12 + r for r in other_rotations))
        goal = goal.mirror(3 * i + axis, centre)
    return {"o": obs, "ag": goal, "g": goal, "u": AffineMap.identity(4).negate(axis)}


def stack_diagonal_reflection(n_blocks: int, centre: np.ndarray) -> Reflection:
    """The mirror image in the vertical plane through ``centre`` (x, y) at 45 degrees, which
    exchanges x and y about the centre; the layout is that of :func:`stack_reflection`.

    Positions swap their x and y about the centre, directions and velocities swap theirs, and
    the action its x and y. Of a rotation vector the plane maps (a, b, c) to (-b, -a, -c); for
    the Euler angles that is exact for upright blocks and off by about the tilt squared
    otherwise (0.0025 rad at a tilt of 0.05 rad), and the blocks stay nearly upright. The
    gripper is not symmetric in this plane, but the cube it holds is: turned by 90 degrees it is
    the same cube, so the fingers stay as they are. The plane is a symmetry only approximately:
    the arm follows its gripper target a little differently along x and along y, so a scripted
    episode and its image drift apart by up to 2.5 cm (under 1 cm for the x and y planes), and
    both still stack.
    """
    shift = float(centre[0] - centre[1])
    obs = AffineMap.identity(GRIPPER_OBS + BLOCK_OBS * n_blocks).swap(0, 1, shift).swap(5, 6)
    goal = AffineMap.identity(3 * n_blocks)
    for i in range(n_blocks):
        block = GRIPPER_OBS + BLOCK_OBS * i
        obs = obs.swap(block, block + 1, shift).swap(block + 3, block + 4)
        obs = obs.swap(block + 9, block + 10)
        for rotation in (block + 6, block + 12):  # Euler angles, angular velocity
            obs = obs.swap(rotation, rotation + 1).negate(rotation, rotation + 1, rotation + 2)
        goal = goal.swap(3 * i, 3 * i + 1, shift)
    return {"o": obs, "ag": goal, "g": goal, "u": AffineMap.identity(4).swap(0, 1)}


class FetchStackEnv(MujocoFetchEnv, EzPickle):
    """Fetch robot stacking ``n_blocks`` blocks into a tower (see the module docstring).

    Attributes:
        n_blocks: Number of blocks N.
        goal: Flat ``(3 N,)`` tower targets (the attribute herdemos saves and restores).
        robot_start: Class attribute: initial joint positions of the robot, by joint name.
    """

    robot_start: ClassVar[Mapping[str, float]] = ROBOT_START

    def __init__(
        self,
        n_blocks: int = 2,
        reward_type: str = "sparse",
        render_mode: str | None = None,
        width: int = RENDER_SIZE,
        height: int = RENDER_SIZE,
    ) -> None:
        """Builds the scene and the Fetch machinery.

        Args:
            n_blocks: Number of blocks, 2 to 6 (more would not fit the sampling area reliably).
            reward_type: ``"sparse"`` or ``"step"``.
            render_mode, width, height: Gymnasium's rendering options (``gym.make`` passes
                ``render_mode``), handed to :class:`MujocoFetchEnv`.
        """
        if not MIN_BLOCKS <= n_blocks <= MAX_BLOCKS:
            raise ValueError(f"n_blocks must be in [{MIN_BLOCKS}, {MAX_BLOCKS}], not {n_blocks}")
        if reward_type not in REWARD_TYPES:
            raise ValueError(f"reward_type must be one of {REWARD_TYPES}, not {reward_type!r}")
        self.n_blocks = n_blocks
        self._tower_base = np.zeros(3)  # drawn with the blocks at every reset
        initial_qpos = {**self.robot_start, **parked_blocks_qpos(n_blocks)}
        robot = self._robot_mjcf()
        MujocoFetchEnv.__init__(
            self,
            model_path=write_scene(scene_xml(n_blocks, robot), f"{robot.name}_stack{n_blocks}"),
            has_object=True,
            block_gripper=False,
            n_substeps=20,
            gripper_extra_height=0.2,
            target_in_the_air=False,
            target_offset=0.0,
            obj_range=0.15,
            target_range=0.15,
            distance_threshold=DISTANCE_THRESHOLD,
            initial_qpos=initial_qpos,
            reward_type=reward_type,
            render_mode=render_mode,
            width=width,
            height=height,
        )
        EzPickle.__init__(
            self,
            n_blocks=n_blocks,
            reward_type=reward_type,
            render_mode=render_mode,
            width=width,
            height=height,
        )

    def _robot_mjcf(self) -> RobotMJCF:
        """The scene's robot: the hook through which a subclass stacks with another robot."""
        return fetch_robot_mjcf()

    # GoalEnv interface
    # ----------------------------

    def compute_reward(
        self, achieved_goal: np.ndarray, desired_goal: np.ndarray, info: Any
    ) -> np.ndarray:
        """Stacking reward, vectorised over leading axes (see :func:`stack_reward`)."""
        del info
        return stack_reward(achieved_goal, desired_goal, self.reward_type, self.distance_threshold)

    def _is_success(self, achieved_goal: np.ndarray, desired_goal: np.ndarray) -> np.float32:
        """1.0 when every block is within the threshold of its target, else 0.0."""
        placed = blocks_placed(achieved_goal, desired_goal, self.distance_threshold)
        return np.float32(placed.all(axis=-1))

    # Symmetry
    # ----------------------------

    def reflections(self) -> dict[str, Reflection]:
        """The task's mirror symmetries, by plane: the vertical planes through the gripper's
        start, around which blocks and tower bases are drawn uniformly in a square, normal to x
        and to y (:func:`stack_reflection`) and along the diagonal
        (:func:`stack_diagonal_reflection`). ``--demo_mirror 1`` adds the demos' images under
        all of them (``demo_mirror_planes``) to the demo buffer. The test that steps a scene and
        its mirror image side by side checks each plane."""
        centre = self.initial_gripper_xpos
        return {
            "x": stack_reflection(self.n_blocks, 0, centre[0]),
            "y": stack_reflection(self.n_blocks, 1, centre[1]),
            "diagonal": stack_diagonal_reflection(self.n_blocks, centre[:2]),
        }

    # Observation
    # ----------------------------

    def _get_obs(self) -> dict[str, np.ndarray]:
        """Gripper state followed by the state of each block (layout in the module docstring)."""
        dt = self.n_substeps * self.model.opt.timestep
        grip_pos = self._utils.get_site_xpos(self.model, self.data, "robot0:grip").copy()
        grip_velp = self._utils.get_site_xvelp(self.model, self.data, "robot0:grip") * dt
        robot_qpos, robot_qvel = self._utils.robot_get_obs(
            self.model, self.data, self._model_names.joint_names
        )
        parts = [grip_pos, robot_qpos[-2:], grip_velp, robot_qvel[-2:] * dt]
        positions = []
        for i in range(self.n_blocks):
            block = self._block_observation(f"object{i}", grip_pos, dt)
            positions.append(block[:3])
            parts.append(block)
        return {
            "observation": np.concatenate(parts),
            "achieved_goal": np.concatenate(positions),
            "desired_goal": np.asarray(self.goal, dtype=np.float64).copy(),
        }

    def _block_observation(self, site: str, grip_pos: np.ndarray, dt: float) -> np.ndarray:
        """Position, relative position, Euler rotation and velocities (x dt) of one block."""
        pos = self._utils.get_site_xpos(self.model, self.data, site).copy()
        rot = rotations.mat2euler(self._utils.get_site_xmat(self.model, self.data, site))
        velp = self._utils.get_site_xvelp(self.model, self.data, site) * dt
        velr = self._utils.get_site_xvelr(self.model, self.data, site) * dt
        return np.concatenate([pos, pos - grip_pos, rot, velp, velr])

    # Episode start
    # ----------------------------

    def _reset_sim(self) -> bool:
        """Restores the settled start state and places the blocks at random on the table.

        Skips :meth:`MujocoFetchEnv._reset_sim`, which would place only ``object0``, and uses the
        plain MuJoCo reset of its parent instead. The tower base is drawn first (and kept for
        :meth:`_sample_goal`), so the blocks can be placed around it.
        """
        super(MujocoFetchEnv, self)._reset_sim()
        positions = self._sample_block_positions()
        for i, xy in enumerate(positions):
            name = f"object{i}:joint"
            qpos = self._utils.get_joint_qpos(self.model, self.data, name).copy()
            qpos[:2] = xy
            self._utils.set_joint_qpos(self.model, self.data, name, qpos)
        self._mujoco.mj_forward(self.model, self.data)
        return True

    def _sample_tower_base(self) -> np.ndarray:
        """A tower base on the table, in Fetch's target range around the gripper start."""
        base = self.initial_gripper_xpos[:3].copy()
        base[:2] += self.np_random.uniform(-self.target_range, self.target_range, size=2)
        base[2] = self.height_offset
        return base

    def _sample_block_positions(self) -> np.ndarray:
        """Planar block positions around the gripper start, pairwise at least
        ``MIN_BLOCK_SEPARATION`` apart and ``TOWER_CLEARANCE`` from the tower base (rejection
        sampling with ``self.np_random``, so a seed fixes them). A base around which the blocks
        do not fit is drawn again."""
        centre = self.initial_gripper_xpos[:2]
        while True:
            self._tower_base = self._sample_tower_base()
            chosen: list[np.ndarray] = []
            for _ in range(SAMPLING_ATTEMPTS):
                xy = centre + self.np_random.uniform(-self.obj_range, self.obj_range, size=2)
                if self._is_free(xy, chosen):
                    chosen.append(xy)
                    if len(chosen) == self.n_blocks:
                        return np.array(chosen)

    def _is_free(self, xy: np.ndarray, chosen: list[np.ndarray]) -> bool:
        """Whether a block at ``xy`` keeps clear of the gripper start, the tower base and the
        blocks so far."""
        if np.linalg.norm(xy - self.initial_gripper_xpos[:2]) < MIN_GRIPPER_SEPARATION:
            return False
        if np.linalg.norm(xy - self._tower_base[:2]) < TOWER_CLEARANCE:
            return False
        return all(np.linalg.norm(xy - other) >= MIN_BLOCK_SEPARATION for other in chosen)

    def _sample_goal(self) -> np.ndarray:
        """Tower targets: the base drawn with the blocks (:meth:`_sample_block_positions`), one
        block edge per level."""
        base = self._tower_base
        levels = np.arange(self.n_blocks)[:, None] * np.array([0.0, 0.0, BLOCK_SIZE])
        return (base + levels).ravel()

    # Rendering
    # ----------------------------

    def _render_callback(self) -> None:
        """Moves target site ``i`` onto block ``i``'s target, so renders show the tower goal."""
        targets = np.asarray(self.goal, dtype=np.float64).reshape(-1, 3)
        for i, target in enumerate(targets):
            site_id = self._model_names.site_name2id[f"target{i}"]
            offset = self.data.site_xpos[site_id] - self.model.site_pos[site_id]
            self.model.site_pos[site_id] = target - offset
        self._mujoco.mj_forward(self.model, self.data)
