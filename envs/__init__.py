"""herdemos' own goal-conditioned envs, registered with Gymnasium when this package is imported.

Registered ids (``N`` = 2 ... 6 blocks, ``50 N`` steps per episode):

* ``FetchStackN-v1``: stacking with the sparse reward (-1 until every block is placed, then 0),
  with the tower spot clear of every block at the start (12 cm, ``stack.TOWER_CLEARANCE``).
* ``FetchStackN-Step-v1``: the same task with the step reward (minus the number of blocks not
  placed), the paper's shaped variant.

and, with a Barrett WAM-like arm instead of Fetch (:mod:`herdemos.envs.wam`), with the sparse
reward: ``WAMReach-v0`` and ``WAMPickAndPlace-v0`` (50 steps), ``WAMStack2-v1`` and
``WAMStack4-v1`` (100 and 200 steps, clear tower spot); the stacking ones also as
``WAMStackN-Step-v1`` with the step reward.

The first stacking envs (``-v0``), whose tower spot could be anywhere, blocks included, are
retired and no longer registered (docs/retired.md).

It also registers gymnasium-robotics' Fetch tasks (``FetchReach``, ``FetchPush``, ``FetchSlide``,
``FetchPickAndPlace``, ``-v4`` and their ``Dense`` variants) under the same ids, entry points and
horizons as gymnasium-robotics 1.4 does, so that ``gym.make("FetchPush-v4")`` works after
``import herdemos`` alone.

Registration is idempotent: ids that already exist are left alone, so importing this module again
(or after a re-registration elsewhere) neither warns nor replaces them. It is also cheap: the
entry point is Gymnasium's ``module:Class`` string, so MuJoCo and gymnasium-robotics load only
when a stacking env is first made. ``import herdemos`` therefore registers these ids.
"""

from __future__ import annotations

import gymnasium as gym

MIN_BLOCKS = 2
MAX_BLOCKS = 6

GRIPPER_OBS = 10
"""Stacking observation floats before the first block: grip position, fingers, grip velocity,
finger velocities. The env (:mod:`herdemos.envs.stack`) writes this layout and the stacking
controller reads it; both take it from here."""
BLOCK_OBS = 15
"""Stacking observation floats per block: position, position relative to the grip, Euler
rotation, linear and angular velocity."""
BLOCK_HALF_SIZE = 0.025
"""Half the block edge (metres), the size of Fetch's pick-and-place block."""

STEPS_PER_BLOCK = 50
"""Episode length per block, the Fetch pick-and-place horizon (one pick and place per block)."""

REWARD_SUFFIXES = {"sparse": "", "step": "-Step"}
"""Id infix per reward type: ``FetchStack3-v1`` is sparse, ``FetchStack3-Step-v1`` step."""

ENTRY_POINT = "herdemos.envs.stack:FetchStackEnv"
"""Gymnasium's lazy entry point: registering imports nothing heavy."""

STACK_VERSION = "v1"
"""Version of the stacking ids: ``-v1`` keeps the tower spot clear of every block at the start
(``herdemos.envs.stack.TOWER_CLEARANCE``)."""

WAM_STACK = "herdemos.envs.wam:WAMStackEnv"
WAM_ENTRY_POINTS: dict[str, tuple[str, int, dict[str, float | str]]] = {
    "WAMReach-v0": ("herdemos.envs.wam:WAMReachEnv", 50, {}),
    "WAMPickAndPlace-v0": ("herdemos.envs.wam:WAMPickAndPlaceEnv", 50, {}),
    **{
        f"WAMStack{n}{suffix}-{STACK_VERSION}": (
            WAM_STACK,
            n * STEPS_PER_BLOCK,
            {"n_blocks": n, "reward_type": reward_type},
        )
        for n in (2, 4)
        for reward_type, suffix in REWARD_SUFFIXES.items()
    },
}
"""``id: (entry point, max_episode_steps, constructor kwargs)`` of the WAM envs. Reach and
pick-and-place keep their Fetch horizons; stacking keeps 50 steps per block and, like Fetch
stacking, comes with the sparse reward and the paper's step reward (``-Step``)."""


FETCH_ENTRY_POINTS = {
    task: f"herdemos.envs.robotics:MujocoFetch{task}Env"
    for task in ("Reach", "Push", "Slide", "PickAndPlace")
}
"""Task -> entry point of gymnasium-robotics' MuJoCo Fetch env classes (gymnasium-robotics 1.4),
reached through :mod:`herdemos.envs.robotics`, which imports gymnasium-robotics quietly."""

FETCH_VERSION = "v4"
FETCH_STEPS = 50
"""Fetch episode length, gymnasium-robotics' ``max_episode_steps`` for these ids."""


def register_fetch_envs() -> None:
    """Registers the Fetch ids of :data:`FETCH_ENTRY_POINTS` that are not registered yet, sparse
    and ``Dense``, without importing gymnasium-robotics."""
    for task, entry_point in FETCH_ENTRY_POINTS.items():
        for reward_type, infix in (("sparse", ""), ("dense", "Dense")):
            env_id = f"Fetch{task}{infix}-{FETCH_VERSION}"
            if env_id in gym.registry:
                continue
            gym.register(
                id=env_id,
                entry_point=entry_point,
                kwargs={"reward_type": reward_type},
                max_episode_steps=FETCH_STEPS,
            )


def stack_env_specs() -> list[tuple[str, int, str]]:
    """``(id, n_blocks, reward_type)`` of every Fetch stacking env, in registration order."""
    return [
        (f"FetchStack{n}{suffix}-{STACK_VERSION}", n, reward_type)
        for n in range(MIN_BLOCKS, MAX_BLOCKS + 1)
        for reward_type, suffix in REWARD_SUFFIXES.items()
    ]


STACK_ENV_IDS: tuple[str, ...] = tuple(spec[0] for spec in stack_env_specs())

WAM_ENV_IDS: tuple[str, ...] = tuple(WAM_ENTRY_POINTS)


def register_stack_envs() -> None:
    """Registers every ``FetchStack`` id that is not registered yet."""
    for env_id, n_blocks, reward_type in stack_env_specs():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point=ENTRY_POINT,
            kwargs={"n_blocks": n_blocks, "reward_type": reward_type},
            max_episode_steps=STEPS_PER_BLOCK * n_blocks,
        )


def register_wam_envs() -> None:
    """Registers every WAM id that is not registered yet."""
    for env_id, (entry_point, steps, kwargs) in WAM_ENTRY_POINTS.items():
        if env_id in gym.registry:
            continue
        gym.register(id=env_id, entry_point=entry_point, kwargs=kwargs, max_episode_steps=steps)


register_fetch_envs()
register_stack_envs()
register_wam_envs()

__all__ = [
    "BLOCK_HALF_SIZE",
    "BLOCK_OBS",
    "GRIPPER_OBS",
    "FETCH_ENTRY_POINTS",
    "MAX_BLOCKS",
    "MIN_BLOCKS",
    "STACK_ENV_IDS",
    "STACK_VERSION",
    "WAM_ENV_IDS",
    "register_fetch_envs",
    "register_stack_envs",
    "register_wam_envs",
    "stack_env_specs",
]
