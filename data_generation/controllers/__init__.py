"""Scripted (hand-coded) controllers that demonstrate the Fetch tasks.

The controllers are small phase state machines that read the Fetch observation dict and return
the 4-D Fetch action ``(dx, dy, dz, gripper)``. They are used to generate demonstrations, so they
aim to be quick, smooth and deterministic; exploration noise is added by the caller.

Layout: :mod:`.common` holds the shared constants, the :class:`ScriptedController` protocol,
observation parsing and the motion helpers (including how the proportional control is tuned);
:mod:`.approach` the collision-free approach shared by Push and Slide; :mod:`.reach`,
:mod:`.pick_and_place`, :mod:`.push`, :mod:`.slide` and :mod:`.stack` one task each. This
package module maps env ids to controllers (:func:`make_controller`) and re-exports the
controller classes.

Measured with seeds 0..99 (no action noise): Reach, PickAndPlace and Push succeed in all
episodes; Slide in about two thirds. Most Slide failures are goals farther than a full-speed
strike can send the puck (about 0.6 m); the rest stop a few centimetres outside the 5 cm radius.
Stacking (herdemos' FetchStack2..6) succeeds in all of seeds 0..49 for every block count.

herdemos' Barrett WAM-like arm envs (``WAMReach``, ``WAMPickAndPlace``, ``WAMStack2/4``) get the
same controllers with the same parameters: the WAM model copies Fetch's gripper and is driven by
the same mocap machinery, and its palm fits inside the hand extents the stacking controller plans
with (checked in ``tests/test_wam_env.py``). They succeed in all of seeds 0..49 (``docs/wam.md``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from herdemos.data_generation.controllers.cautious import (
    CautiousPickAndPlaceController,
    CautiousPushController,
)
from herdemos.data_generation.controllers.common import ScriptedController
from herdemos.data_generation.controllers.human import (
    HumanPickAndPlaceController,
    HumanPushController,
)
from herdemos.data_generation.controllers.original import (
    OriginalPickAndPlaceController,
    OriginalPushController,
)
from herdemos.data_generation.controllers.pick_and_place import PickAndPlaceController
from herdemos.data_generation.controllers.push import PushController
from herdemos.data_generation.controllers.reach import ReachController
from herdemos.data_generation.controllers.slide import SlideController
from herdemos.data_generation.controllers.stack import StackController
from herdemos.data_generation.controllers.stack_layout import STACK_ENV_PREFIXES
from herdemos.util import HerdemosError

__all__ = [
    "CONTROLLER_ENVS",
    "DEFAULT_STYLE",
    "STYLES",
    "PickAndPlaceController",
    "PushController",
    "ReachController",
    "ScriptedController",
    "SlideController",
    "StackController",
    "make_controller",
    "style_envs",
]

_SUPPORTED: dict[str, Callable[[np.random.Generator | None], ScriptedController]] = {
    "FetchReach": ReachController,
    "FetchPush": PushController,
    "FetchPickAndPlace": PickAndPlaceController,
    "FetchSlide": SlideController,
    "WAMReach": ReachController,
    "WAMPickAndPlace": PickAndPlaceController,
    **dict.fromkeys(STACK_ENV_PREFIXES, StackController),
}

CONTROLLER_ENVS: tuple[str, ...] = tuple(_SUPPORTED)

DEFAULT_STYLE = "herdemos"

# Demonstrators herdemos was not tuned to, per style and env name (see docs/demonstrations.md).
_STYLED: dict[str, dict[str, Callable[[np.random.Generator | None], ScriptedController]]] = {
    "original": {
        "FetchPickAndPlace": OriginalPickAndPlaceController,
        "FetchPush": OriginalPushController,
    },
    "cautious": {
        "FetchPickAndPlace": CautiousPickAndPlaceController,
        "FetchPush": CautiousPushController,
    },
    "human": {
        "FetchPickAndPlace": HumanPickAndPlaceController,
        "FetchPush": HumanPushController,
    },
}

STYLES: tuple[str, ...] = (DEFAULT_STYLE, *_STYLED)


def style_envs(style: str) -> tuple[str, ...]:
    """The env names (before ``-v``) that have a controller of ``style``."""
    return CONTROLLER_ENVS if style == DEFAULT_STYLE else tuple(_STYLED[style])


def make_controller(
    env_id: str,
    rng: np.random.Generator | None = None,
    miss_prob: float = 0.0,
    style: str = DEFAULT_STYLE,
) -> ScriptedController | None:
    """Returns the scripted controller for an env id, or None if there is none.

    The id is matched by its name before ``-v`` (``FetchPush-v4`` -> ``FetchPush``), ignoring a
    namespace (``gymnasium_robotics/...``) and a ``Dense`` suffix, since dense-reward variants
    have the same dynamics. Every ``FetchStack...`` and ``WAMStack...`` id (any block count,
    sparse or ``-Step`` reward) gets the stacking controller, which reads the block count from
    the observation. The ``WAM...`` ids get the controllers of their Fetch counterparts.

    Args:
        env_id: Gymnasium env id.
        rng: Optional generator for small per-episode variation of the controllers' speed.
        miss_prob: Stacking only: probability of a deliberately missed grasp per pick (see
            :class:`StackController`).
        style: Which demonstrator: ``herdemos`` (the controllers above) or one of the other
            :data:`STYLES`, which exist for FetchPickAndPlace and FetchPush only.

    Returns:
        A fresh controller, or None for envs without a scripted controller (of that style).

    Raises:
        HerdemosError: ``miss_prob`` > 0 for an env without the stacking controller, or an
            unknown style.
    """
    name = env_id.rsplit("/", 1)[-1].split("-v", 1)[0]
    name = name.removesuffix("Dense")
    if style != DEFAULT_STYLE:
        if style not in _STYLED:
            raise HerdemosError(f"--style {style}: unknown, choose from {', '.join(STYLES)}")
        if miss_prob > 0:
            raise HerdemosError(
                f"--miss_prob: only the herdemos stacking controllers miss on purpose, not the "
                f"{style} style"
            )
        styled_cls = _STYLED[style].get(name)
        return None if styled_cls is None else styled_cls(rng)
    for prefix in STACK_ENV_PREFIXES:
        if name.startswith(prefix):
            name = prefix  # one controller for every block count and reward type
    if name in STACK_ENV_PREFIXES:
        return StackController(rng, miss_prob)
    if miss_prob > 0:
        raise HerdemosError(
            f"--miss_prob: only the stacking controllers miss on purpose, not {env_id}'s"
        )
    controller_cls = _SUPPORTED.get(name)
    return None if controller_cls is None else controller_cls(rng)
