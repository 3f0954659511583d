"""MJCF of a Barrett WAM-like 7-DoF arm with a two-finger parallel gripper, primitives only.

The arm's frames follow the 7-DoF WAM's Denavit-Hartenberg table (standard DH, as in Spong et al.)
published in Barrett's *WAM Arm User's Manual* (document D1001, Table 5 "7-DOF WAM frame
parameters"), and its joint ranges follow the same manual's Table 6 "Joint Limits". Each DH row
``i`` becomes one MuJoCo body whose frame is DH frame ``i - 1`` turned by the joint angle about
its z axis, so the hinge of body ``i`` is its local z axis and its child sits at
``(a_i, 0, d_i)`` rotated by ``alpha_i`` about x. Link shapes, masses and the gripper are
simplified stand-ins: capsules, cylinders and boxes, no meshes.

The gripper is not a BarrettHand: it copies the dimensions of Fetch's two-finger gripper (finger
pads, slide range, actuators), so the grip site, finger joints, mocap weld and action mapping are
exactly those of gymnasium-robotics' Fetch envs and the scripted Fetch controllers apply as they
are. Its frame ``robot0:gripper_link`` has x along the approach direction (out of the flange) and
y along the finger motion, as Fetch's, so Fetch's "grip pointing down" mocap orientation
``(1, 0, 1, 0)`` means the same here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from herdemos.envs.scene import FINGER_ACTUATORS, RobotMJCF


@dataclass(frozen=True)
class DHRow:
    """One row of a standard Denavit-Hartenberg table (metres, radians)."""

    a: float
    alpha: float
    d: float


WAM_DH: tuple[DHRow, ...] = (
    DHRow(a=0.0, alpha=-math.pi / 2, d=0.0),
    DHRow(a=0.0, alpha=math.pi / 2, d=0.0),
    DHRow(a=0.045, alpha=-math.pi / 2, d=0.55),
    DHRow(a=-0.045, alpha=math.pi / 2, d=0.0),
    DHRow(a=0.0, alpha=-math.pi / 2, d=0.3),
    DHRow(a=0.0, alpha=math.pi / 2, d=0.0),
    DHRow(a=0.0, alpha=0.0, d=0.06),
)
"""The 7-DoF WAM DH table (Barrett D1001, Table 5): shoulder yaw, shoulder pitch, shoulder roll
(upper-arm twist), elbow, wrist yaw, wrist pitch, wrist roll. Row 7's ``d`` is the wrist-to-flange
distance; all joint angles are zero with the arm pointing straight up."""

WAM_JOINT_LIMITS: tuple[tuple[float, float], ...] = (
    (-2.6, 2.6),
    (-2.0, 2.0),
    (-2.8, 2.8),
    (-0.9, 3.1),
    (-4.76, 1.24),
    (-1.6, 1.6),
    (-3.0, 3.0),
)
"""Joint ranges (radians) from Barrett D1001, Table 6, in the order of :data:`WAM_DH`."""

WAM_JOINTS: tuple[str, ...] = tuple(
    f"robot0:{name}_joint"
    for name in (
        "shoulder_yaw",
        "shoulder_pitch",
        "shoulder_roll",
        "elbow",
        "wrist_yaw",
        "wrist_pitch",
        "wrist_roll",
    )
)
"""Arm joint names, base to hand. The ``robot0:`` prefix puts them (before the two finger joints)
in what gymnasium-robotics reads as robot joints, so the last two robot joints are the fingers."""

SHOULDER_POS = (0.8, 0.75, 0.8)
"""World position (metres) of DH frame 0, the shoulder centre, with the base frame's x axis
pointing at the table: 25 cm behind the table's near edge (x = 1.05), centred on it, 40 cm above
its top. The wrist centres of every grasp and goal (x 1.19-1.49, y 0.6-0.9, grip 2.5-47.5 cm
above the table) are then 0.39-0.76 m from the shoulder, inside the arm's 0.85 m reach, and every
joint stays at least 0.35 rad inside its range there (``docs/wam.md``)."""

BASE_HEIGHT = 0.35
"""Height (metres) of the shoulder above the WAM's base plate; the plate sits on a pedestal."""

FLANGE_TO_FINGERS = 0.11
"""Distance (metres) from the tool flange to the gripper frame (the middle of the finger pads)."""

GRIP_OFFSET = 0.02
"""Distance (metres) of the ``robot0:grip`` site beyond the gripper frame, as in Fetch."""

ARM_JOINT_DEFAULTS = 'armature="1" damping="50"'
"""Arm joint dynamics (Fetch's values). The armature dominates the light primitive links, so each
joint behaves like a damped rotor that the mocap weld drags along: no oscillation, and the grip
covers about two thirds of a commanded offset per step, as Fetch's does (see ``docs/wam.md``)."""

POSTURE_STIFFNESS = 10.0
"""Spring (N m / rad) that pulls the shoulder roll and wrist yaw joints to zero. The weld fixes
the hand's pose (6 DoF) and leaves one free arm motion, the elbow swinging about the
shoulder-wrist line; without a spring it would drift from episode to episode. With the hand
pointing down, those two joints are where that motion shows, and their zero keeps the elbow above
the shoulder-wrist line. Like Fetch's forearm-roll spring, it is weak against the weld."""

POSTURE_JOINTS = (2, 4)
"""Indices of the shoulder roll and wrist yaw joints, which get :data:`POSTURE_STIFFNESS`."""

HOME_QPOS: tuple[float, ...] = (0.0, 0.945, 0.0, 2.12, 0.0, 0.077, 0.0)
"""Arm joint angles at the envs' start grip position (1.34, 0.75, 0.6), elbow up, hand pointing
down (found by letting the mocap weld settle the arm; the env's set-up repeats that settling, so
small changes to the geometry need no update here)."""

ROBOT_CONTACT = 'contype="2" conaffinity="1"'
"""Robot geoms collide with the world (table and blocks have MuJoCo's default contype 1) but not
with each other, so the primitive links may overlap at the joints."""

_VISUAL = 'contype="0" conaffinity="0"'

ARM_RGBA = "0.75 0.75 0.78 1"
DARK_RGBA = "0.25 0.25 0.28 1"

LINK_GEOMS: tuple[tuple[str, ...], ...] = (
    (  # shoulder yaw housing, around the yaw axis
        f'<geom type="cylinder" pos="0 0 -0.06" size="0.09 0.1" mass="8" rgba="{ARM_RGBA}"/>',
    ),
    (  # shoulder pitch housing, around the pitch axis
        f'<geom type="cylinder" size="0.08 0.09" mass="4.8" rgba="{DARK_RGBA}"/>',
    ),
    (  # upper arm, up to the elbow offset
        '<geom type="capsule" fromto="0 0 0.1 0 0 0.47" size="0.05" mass="1.7"'
        f' rgba="{ARM_RGBA}"/>',
        '<geom type="capsule" fromto="0 0 0.47 0.045 0 0.55" size="0.045" mass="0.2"'
        f' rgba="{ARM_RGBA}"/>',
    ),
    (  # elbow housing, around the elbow axis
        f'<geom type="cylinder" size="0.05 0.05" mass="1" rgba="{DARK_RGBA}"/>',
    ),
    (  # forearm, along the wrist yaw axis
        '<geom type="capsule" fromto="0 0 0.03 0 0 0.23" size="0.04" mass="1.1"'
        f' rgba="{ARM_RGBA}"/>',
    ),
    (  # wrist pitch housing, around the pitch axis
        f'<geom type="cylinder" size="0.045 0.045" mass="0.4" rgba="{DARK_RGBA}"/>',
    ),
    (  # wrist roll link, down to the flange
        '<geom type="cylinder" fromto="0 0 0 0 0 0.06" size="0.035" mass="0.1"'
        f' rgba="{ARM_RGBA}"/>',
    ),
)
"""Primitive shapes of links 1..7, in each link's body frame (its joint axis is local z). Masses
(kg) roughly follow the WAM's heavy shoulder and light wrist; with gravity compensated and the
armature dominating, they matter little."""

_HAND = """<body name="robot0:gripper_link" pos="0 0 {flange_to_fingers}" quat="{hand_quat}"
      gravcomp="1">
  <geom type="box" pos="-0.06 0 0" size="0.025 0.06 0.03" mass="0.6" rgba="{dark}"/>
  <geom type="cylinder" fromto="-0.11 0 0 -0.085 0 0" size="0.035" mass="0.1" rgba="{arm}"/>
  <body name="robot0:r_gripper_finger_link" pos="0 0.0159 0" childclass="robot0:wam_finger"
        gravcomp="1">
    <inertial diaginertia="0.1 0.1 0.1" mass="4" pos="-0.01 0 0"/>
    <joint axis="0 1 0" name="robot0:r_gripper_finger_joint" range="0 0.05"/>
    <geom pos="0 -0.008 0" size="0.0385 0.007 0.0135" name="robot0:r_gripper_finger_link"/>
  </body>
  <body name="robot0:l_gripper_finger_link" pos="0 -0.0159 0" childclass="robot0:wam_finger"
        gravcomp="1">
    <inertial diaginertia="0.1 0.1 0.1" mass="4" pos="-0.01 0 0"/>
    <joint axis="0 -1 0" name="robot0:l_gripper_finger_joint" range="0 0.05"/>
    <geom pos="0 0.008 0" size="0.0385 0.007 0.0135" name="robot0:l_gripper_finger_link"/>
  </body>
  <site name="robot0:grip" pos="{grip} 0 0" rgba="0 0 0 0" size="0.02 0.02 0.02"/>
</body>"""
"""The gripper, attached ``FLANGE_TO_FINGERS`` beyond the flange: a palm box, a flange adapter,
and Fetch's finger bodies, joints and pads (sizes, masses and joint range), so the finger faces
meet at joint position 0 and open 5 cm each."""

_HEADER = """  <compiler angle="radian" coordinate="local"/>
  <option timestep="0.002">
    <flag warmstart="enable"/>
  </option>
  <asset>
    <texture type="skybox" builtin="gradient" rgb1="0.44 0.85 0.56" rgb2="0.46 0.87 0.58"
             width="32" height="32"/>
    <material name="floor_mat" specular="0" shininess="0.5" reflectance="0" rgba="0.2 0.2 0.2 1"/>
    <material name="table_mat" specular="0" shininess="0.5" reflectance="0"
              rgba="0.93 0.93 0.93 1"/>
  </asset>
  <default>
    <default class="robot0:wam">
      <joint {arm_joint} limited="true"/>
      <geom {contact}/>
      <default class="robot0:wam_finger">
        <geom type="box" condim="4" margin="0.001" solimp="0.99 0.99 0.01" solref="0.01 1"
              friction="1 0.05 0.01" rgba="0.356 0.361 0.376 1"/>
        <joint type="slide" armature="100" damping="1000" limited="true"
               solimplimit="0.99 0.999 0.01" solreflimit="0.01 1"/>
      </default>
    </default>
  </default>
  <equality>
    <weld body1="robot0:mocap" body2="robot0:gripper_link" solimp="0.9 0.95 0.001"
          solref="0.02 1" relpose="0 0 0 1 0 0 0"/>
  </equality>"""
"""Top-level MJCF: Fetch's physics options and mocap weld (with an explicit identity
``relpose``: gymnasium-robotics resets only part of the weld data, which is correct only when
the relative pose starts as the identity), the table materials, and the joint defaults."""


def _fmt(values: tuple[float, ...] | np.ndarray) -> str:
    """Space-separated numbers for an MJCF attribute."""
    return " ".join(f"{float(v):.6g}" for v in values)


def _quat_x(angle: float) -> tuple[float, float, float, float]:
    """Quaternion (w, x, y, z) of a rotation by ``angle`` about x."""
    return (math.cos(angle / 2), math.sin(angle / 2), 0.0, 0.0)


def _arm_body_xml(index: int, child: str) -> str:
    """Body of link ``index + 1`` (0-based row ``index``), with ``child`` nested inside.

    The body frame is DH frame ``index`` turned about its z axis by the joint, so the body sits
    where the previous row's ``(a, 0, d)`` and ``alpha`` put it.
    """
    if index == 0:
        placement = f'pos="0 0 {BASE_HEIGHT}"'
    else:
        row = WAM_DH[index - 1]
        placement = f'pos="{_fmt((row.a, 0.0, row.d))}" quat="{_fmt(_quat_x(row.alpha))}"'
    low, high = WAM_JOINT_LIMITS[index]
    stiffness = f' stiffness="{POSTURE_STIFFNESS:g}"' if index in POSTURE_JOINTS else ""
    geoms = "\n".join(LINK_GEOMS[index])
    return (
        f'<body name="robot0:wam_link{index + 1}" {placement} gravcomp="1">\n'
        f'<joint name="{WAM_JOINTS[index]}" axis="0 0 1" range="{low:g} {high:g}"{stiffness}/>\n'
        f"{geoms}\n{child}\n</body>"
    )


def hand_xml() -> str:
    """The gripper body, in the frame of the last link (its z axis is the hand's axis)."""
    # R_y(-90 deg) turns the gripper's x (approach) axis onto the link's z axis.
    quat = (math.cos(-math.pi / 4), 0.0, math.sin(-math.pi / 4), 0.0)
    last = WAM_DH[-1]
    return _HAND.format(
        flange_to_fingers=f"{last.d + FLANGE_TO_FINGERS:g}",
        hand_quat=_fmt(quat),
        grip=f"{GRIP_OFFSET:g}",
        arm=ARM_RGBA,
        dark=DARK_RGBA,
    )


def arm_xml() -> str:
    """The pedestal, the WAM base, links 1..7 and the gripper, as ``<worldbody>`` content."""
    child = hand_xml()
    for index in reversed(range(len(WAM_DH))):
        child = _arm_body_xml(index, child)
    x, y, z = SHOULDER_POS
    pedestal_top = z - BASE_HEIGHT
    return f"""    <body mocap="true" name="robot0:mocap" pos="0 0 0">
      <geom {_VISUAL} size="0.005 0.005 0.005" type="box" rgba="0 0.5 0 0.7"/>
    </body>
    <body name="robot0:pedestal" pos="{x:g} {y:g} 0">
      <geom type="cylinder" pos="0 0 {pedestal_top / 2:g}" size="0.12 {pedestal_top / 2:g}"
            rgba="{DARK_RGBA}" {_VISUAL}/>
    </body>
    <body name="robot0:base" pos="{x:g} {y:g} {pedestal_top:g}" childclass="robot0:wam">
      <geom type="box" pos="-0.05 0 0.1" size="0.12 0.12 0.1" rgba="{ARM_RGBA}" {_VISUAL}/>
{child}
    </body>"""


def wam_robot_mjcf() -> RobotMJCF:
    """The WAM's contribution to a table scene (see :func:`herdemos.envs.scene.scene_xml`)."""
    header = _HEADER.format(arm_joint=ARM_JOINT_DEFAULTS, contact=ROBOT_CONTACT)
    return RobotMJCF(name="wam", header=header, body=arm_xml(), actuators=FINGER_ACTUATORS)
