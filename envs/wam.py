"""Barrett WAM-like arm tasks: ``WAMReach-v0``, ``WAMPickAndPlace-v0``, ``WAMStack2/4-v1``.

The arm (:mod:`herdemos.envs.wam_model`) stands on a pedestal beside Fetch's table and is driven
by gymnasium-robotics' Fetch machinery unchanged: a 4-D action moves a mocap body welded to the
hand by up to 5 cm per step and opens or closes the fingers, with the grip pointing down. Only
the robot-specific start differs (:class:`WAMStart`); goals, observations and rewards are those
of the Fetch task each env mirrors:

* ``WAMReach-v0``: FetchReach's 10-D observation (grip position, finger positions, grip
  velocity, finger velocities), goal a point in the 30 cm box around the start grip position
  (which is 20 cm above the table, so every goal is at least 5 cm above it), fingers blocked.
* ``WAMPickAndPlace-v0``: FetchPickAndPlace's 25-D observation, one 5 cm block, the target on the
  table or (half of the episodes) up to 45 cm above it.
* ``WAMStack2-v1``, ``WAMStack4-v1``: herdemos' stacking task (:mod:`herdemos.envs.stack`), with
  its observation, tower goals and rewards.

All use the sparse reward (-1 until the goal is within 5 cm, then 0) and Fetch's success rule;
the stacking ones also come with the step reward (``WAMStack2-Step-v1``, ``WAMStack4-Step-v1``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.utils.ezpickle import EzPickle

from herdemos.envs.robotics import MujocoFetchEnv
from herdemos.envs.scene import RobotMJCF, parked_blocks_qpos, scene_xml, write_scene
from herdemos.envs.stack import DISTANCE_THRESHOLD, RENDER_SIZE, FetchStackEnv
from herdemos.envs.wam_model import GRIP_OFFSET, HOME_QPOS, WAM_JOINTS, wam_robot_mjcf

START_GRIP = np.array([1.34, 0.75, 0.6])
"""Grip position (metres) at the start of every episode: above the middle of Fetch's block and
goal area (Fetch starts at about (1.34, 0.75, 0.53)), 20 cm above the table."""

GRIP_DOWN = np.array([1.0, 0.0, 1.0, 0.0])
"""Mocap orientation that points the grip down (the gripper's x axis along world -z), Fetch's."""

SETTLE_STEPS = 10
"""Env steps for which the weld pulls the arm from :data:`HOME_QPOS` onto the start grip pose
at construction (Fetch's count); the start posture is within millimetres of it already."""

N_SUBSTEPS = 20
"""MuJoCo steps of 2 ms per env step: 25 env steps per second, as in Fetch."""

TARGET_RANGE = 0.15
"""Half side (metres) of the box around the start grip where goals (and blocks) are sampled."""

WAM_START: dict[str, float] = dict(zip(WAM_JOINTS, HOME_QPOS, strict=True))
"""Initial arm joint positions, by joint name."""


class WAMStart:
    """Mixin replacing the Fetch robot's start with the WAM's (put it before the Fetch class).

    Fetch's ``_env_setup`` moves its grip by an offset specific to the Fetch robot; this one
    puts the arm in its home posture and pulls the grip onto :data:`START_GRIP`, pointing down.
    """

    def _env_setup(self, initial_qpos: dict[str, Any]) -> None:
        """Sets the start state that every episode restores, and what goal sampling reads."""
        utils, mujoco = self._utils, self._mujoco
        for name, value in initial_qpos.items():
            utils.set_joint_qpos(self.model, self.data, name, value)
        utils.reset_mocap_welds(self.model, self.data)
        # The weld holds the gripper frame, which sits GRIP_OFFSET above the grip site.
        hand_target = START_GRIP + np.array([0.0, 0.0, GRIP_OFFSET])
        utils.set_mocap_pos(self.model, self.data, "robot0:mocap", hand_target)
        utils.set_mocap_quat(self.model, self.data, "robot0:mocap", GRIP_DOWN)
        for _ in range(SETTLE_STEPS):
            mujoco.mj_step(self.model, self.data, nstep=self.n_substeps)
        self.data.qvel[:] = 0.0  # every episode starts at rest
        mujoco.mj_forward(self.model, self.data)
        self.initial_gripper_xpos = utils.get_site_xpos(self.model, self.data, "robot0:grip").copy()
        if self.has_object:
            self.height_offset = utils.get_site_xpos(self.model, self.data, "object0")[2]


def _wam_scene(n_blocks: int, task: str) -> str:
    """Path of the WAM table scene's MJCF with ``n_blocks`` blocks and at least one target."""
    xml = scene_xml(n_blocks, wam_robot_mjcf(), n_targets=max(n_blocks, 1), task=task)
    return write_scene(xml, f"wam_{task}")


class _WAMFetchTask(WAMStart, MujocoFetchEnv, EzPickle):
    """A gymnasium-robotics Fetch task (its goals, observation and reward) with the WAM.

    Subclasses set ``has_object``: False is FetchReach (fingers blocked, no block), True is
    FetchPickAndPlace (one block, targets on the table or in the air).
    """

    has_object: bool

    def __init__(
        self,
        reward_type: str = "sparse",
        render_mode: str | None = None,
        width: int = RENDER_SIZE,
        height: int = RENDER_SIZE,
    ) -> None:
        """Builds the scene; ``render_mode``, ``width`` and ``height`` (Gymnasium's rendering
        options) go to :class:`MujocoFetchEnv`."""
        n_blocks = int(self.has_object)
        MujocoFetchEnv.__init__(
            self,
            model_path=_wam_scene(n_blocks, self.task_name),
            has_object=self.has_object,
            block_gripper=not self.has_object,
            n_substeps=N_SUBSTEPS,
            gripper_extra_height=0.0,  # read only by Fetch's set-up, which WAMStart replaces
            target_in_the_air=True,
            target_offset=0.0,
            obj_range=TARGET_RANGE,
            target_range=TARGET_RANGE,
            distance_threshold=DISTANCE_THRESHOLD,
            initial_qpos={**WAM_START, **parked_blocks_qpos(n_blocks)},
            reward_type=reward_type,
            render_mode=render_mode,
            width=width,
            height=height,
        )
        EzPickle.__init__(
            self, reward_type=reward_type, render_mode=render_mode, width=width, height=height
        )

    @property
    def task_name(self) -> str:
        return "pick_and_place" if self.has_object else "reach"


class WAMReachEnv(_WAMFetchTask):
    """FetchReach with the WAM: bring the grip within 5 cm of a point above the table."""

    has_object = False


class WAMPickAndPlaceEnv(_WAMFetchTask):
    """FetchPickAndPlace with the WAM: one block to a target on the table or in the air."""

    has_object = True


class WAMStackEnv(WAMStart, FetchStackEnv):
    """herdemos' block stacking (:class:`FetchStackEnv`) with the WAM instead of Fetch."""

    robot_start = WAM_START

    def _robot_mjcf(self) -> RobotMJCF:
        """The WAM arm, gripper and pedestal."""
        return wam_robot_mjcf()
