"""The table scene's MJCF: Fetch's table and floor, a robot, N blocks and their target sites.

gymnasium-robotics loads a model from a file, so :func:`scene_xml` builds the text and
:func:`write_scene` writes it once per content to a temp file. The robot is a parameter
(:class:`RobotMJCF`): Fetch's parts are ``<include>``\\ d from the installed gymnasium-robotics by
absolute path (no asset is copied into this repository), and the WAM brings its own
(:mod:`herdemos.envs.wam_model`). The task on this scene (observation, goal, reward) is
:mod:`herdemos.envs.stack`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from herdemos.envs import BLOCK_HALF_SIZE
from herdemos.envs.robotics import robot_env

BLOCK_SIZE = 2 * BLOCK_HALF_SIZE
"""Vertical spacing of the tower targets: one block edge."""

TABLE_TOP = 0.4
"""Height (metres) of the Fetch table surface (``table0`` box: centre 0.2, half-height 0.2)."""

BLOCK_COLOURS = (
    (0.85, 0.2, 0.2),
    (0.2, 0.65, 0.25),
    (0.2, 0.35, 0.85),
    (0.9, 0.75, 0.15),
    (0.6, 0.25, 0.75),
    (0.15, 0.7, 0.75),
)
"""One colour per block, shared with its target site so renders show which block goes where."""

_SCENE_TEMPLATE = """<?xml version="1.0" encoding="utf-8"?>
<mujoco model="herdemos_{robot}_{task}">
{header}
  <worldbody>
    <geom name="floor0" pos="0.8 0.75 0" size="0.85 0.7 1" type="plane" condim="3"
          material="floor_mat"/>
    <body name="floor0" pos="0.8 0.75 0">
{targets}
    </body>
{body}
    <body pos="1.3 0.75 0.2" name="table0">
      <geom size="0.25 0.35 0.2" type="box" mass="2000" material="table_mat"/>
    </body>
{blocks}
    <light directional="true" ambient="0.2 0.2 0.2" diffuse="0.8 0.8 0.8"
           specular="0.3 0.3 0.3" castshadow="false" pos="0 0 4" dir="0 0 -1" name="light0"/>
  </worldbody>
  <actuator>
{actuators}
  </actuator>
</mujoco>
"""
"""The table scene shared by every robot: floor, target sites (first, so that gymnasium-robotics'
target rendering, which reads the first site's frame, works), the robot, Fetch's table, the
blocks and a light."""

_FETCH_HEADER = """\
  <compiler angle="radian" coordinate="local" meshdir="{mesh_dir}" texturedir="{texture_dir}"/>
  <option timestep="0.002">
    <flag warmstart="enable"/>
  </option>
  <include file="{shared}"/>"""

FINGER_ACTUATORS = """\
    <position ctrllimited="true" ctrlrange="0 0.2" joint="robot0:l_gripper_finger_joint"
              kp="30000" name="robot0:l_gripper_finger_joint" user="1"/>
    <position ctrllimited="true" ctrlrange="0 0.2" joint="robot0:r_gripper_finger_joint"
              kp="30000" name="robot0:r_gripper_finger_joint" user="1"/>"""
"""Fetch's finger position actuators, which the Fetch machinery drives: it sets their targets to
the finger position plus the action's gripper command, so +1 opens fully and -1 closes."""


@dataclass(frozen=True)
class RobotMJCF:
    """The robot's parts of a table scene's MJCF (see :func:`scene_xml`).

    The scene needs from the robot what gymnasium-robotics' Fetch machinery needs: a
    ``robot0:mocap`` body welded to the hand, a ``robot0:grip`` site, and the two finger joints
    ``robot0:l_gripper_finger_joint`` and ``robot0:r_gripper_finger_joint`` with position
    actuators, as the last joints named ``robot...``.

    Attributes:
        name: Short robot name for the model and file names (``"fetch"``).
        header: Top-level elements before ``<worldbody>``: compiler, options, assets (with the
            ``floor_mat`` and ``table_mat`` materials the scene uses), defaults, equality.
        body: The robot's bodies inside ``<worldbody>``, the mocap body included.
        actuators: The contents of ``<actuator>``.
    """

    name: str
    header: str
    body: str
    actuators: str


_TARGET_TEMPLATE = (
    '      <site name="target{i}" pos="0 0 0.5" size="0.02 0.02 0.02" rgba="{rgb} 0.6"'
    ' type="sphere"/>'
)

_BLOCK_TEMPLATE = """    <body name="object{i}" pos="{x} {y} {z}">
      <joint name="object{i}:joint" type="free" damping="0.01"/>
      <geom size="{h} {h} {h}" type="box" condim="3" name="object{i}" rgba="{rgb} 1" mass="2"/>
      <site name="object{i}" pos="0 0 0" size="0.02 0.02 0.02" rgba="1 0 0 0" type="sphere"/>
    </body>"""


def fetch_asset_dir() -> Path:
    """Directory of the installed gymnasium-robotics Fetch MJCF files."""
    return Path(robot_env.__file__).resolve().parent / "assets" / "fetch"


def parking_position(i: int) -> tuple[float, float, float]:
    """Block ``i``'s position while the model is set up (before any reset moves it).

    The blocks sit in a row at the far edge of the table, resting on it, so they neither overlap
    nor touch the gripper while gymnasium-robotics settles the robot at construction, and the
    height Fetch measures there (``height_offset``) is that of a block resting on the table.
    """
    return 1.45, 0.45 + 0.1 * i, TABLE_TOP + BLOCK_HALF_SIZE


def parked_blocks_qpos(n_blocks: int) -> dict[str, list[float]]:
    """Free-joint poses of the blocks at their parking positions, by joint name (a reset moves
    them onto the table)."""
    return {f"object{i}:joint": [*parking_position(i), 1.0, 0.0, 0.0, 0.0] for i in range(n_blocks)}


def fetch_robot_mjcf() -> RobotMJCF:
    """gymnasium-robotics' Fetch robot, its materials and meshes included by absolute path."""
    assets = fetch_asset_dir()
    header = _FETCH_HEADER.format(
        mesh_dir=(assets.parent / "stls" / "fetch").as_posix(),
        texture_dir=(assets.parent / "textures").as_posix(),
        shared=(assets / "shared.xml").as_posix(),
    )
    body = f'    <include file="{(assets / "robot.xml").as_posix()}"/>'
    return RobotMJCF(name="fetch", header=header, body=body, actuators=FINGER_ACTUATORS)


def scene_xml(
    n_blocks: int,
    robot: RobotMJCF | None = None,
    n_targets: int | None = None,
    task: str | None = None,
) -> str:
    """MJCF of the table scene with a robot, ``n_blocks`` blocks and target sites.

    Blocks are ``object0``, ``object1`` ... (body, free joint ``object{i}:joint``, geom and
    site), targets ``target0``, ``target1`` ..., the names the Fetch machinery reads.

    Args:
        n_blocks: Number of blocks (0 for a reaching task).
        robot: The robot's MJCF parts; Fetch by default.
        n_targets: Number of target sites; one per block by default.
        task: Model name suffix; ``stack{n_blocks}`` by default.
    """
    robot = fetch_robot_mjcf() if robot is None else robot
    n_targets = n_blocks if n_targets is None else n_targets
    colours = [
        " ".join(f"{c:g}" for c in BLOCK_COLOURS[i % len(BLOCK_COLOURS)])
        for i in range(max(n_blocks, n_targets))
    ]
    targets = "\n".join(_TARGET_TEMPLATE.format(i=i, rgb=colours[i]) for i in range(n_targets))
    blocks = "\n".join(
        _BLOCK_TEMPLATE.format(
            i=i,
            x=parking_position(i)[0],
            y=parking_position(i)[1],
            z=parking_position(i)[2],
            h=BLOCK_HALF_SIZE,
            rgb=colours[i],
        )
        for i in range(n_blocks)
    )
    return _SCENE_TEMPLATE.format(
        robot=robot.name,
        task=f"stack{n_blocks}" if task is None else task,
        header=robot.header,
        targets=targets,
        body=robot.body,
        blocks=blocks,
        actuators=robot.actuators,
    )


def write_scene(xml: str, stem: str) -> str:
    """Writes a scene's MJCF to a temp file (once per content) and returns its path.

    gymnasium-robotics loads models from a file path. The file name carries a hash of the
    content, and the file is written under a unique name and renamed into place, so parallel
    processes (MPI ranks) building the same env never read a half-written file.

    Args:
        xml: The MJCF text.
        stem: File name prefix, e.g. ``stack3``.
    """
    digest = hashlib.sha256(xml.encode()).hexdigest()[:16]
    path = _scene_directory() / f"{stem}_{digest}.xml"
    if not path.exists():
        handle, tmp_name = tempfile.mkstemp(dir=path.parent, suffix=".xml.tmp")
        try:
            with os.fdopen(handle, "w") as f:
                f.write(xml)
            os.chmod(tmp_name, 0o644)
            os.replace(tmp_name, path)
        finally:
            Path(tmp_name).unlink(missing_ok=True)  # only left if the write failed
    return str(path)


def _scene_directory() -> Path:
    """This user's scene cache in the temp dir (one per user in a shared ``/tmp``).

    A cached file is loaded without being read first, so the folder must be this user's: one
    that another user created there is not used (a fresh private folder is), and one of ours
    that others may write to is made private first."""
    if not hasattr(os, "getuid"):  # Windows: the temp dir is per user already
        directory = Path(tempfile.gettempdir()) / "herdemos_scenes"
        directory.mkdir(parents=True, exist_ok=True)
        return directory
    directory = Path(tempfile.gettempdir()) / f"herdemos_scenes-{os.getuid()}"
    directory.mkdir(mode=0o755, parents=True, exist_ok=True)
    status = directory.lstat()
    if status.st_uid != os.getuid() or not directory.is_dir() or directory.is_symlink():
        return Path(tempfile.mkdtemp(prefix="herdemos_scenes-"))
    if status.st_mode & 0o022:
        os.chmod(directory, 0o755)
    return directory
