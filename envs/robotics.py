"""gymnasium-robotics, imported with its import-time notice muted.

On import, gymnasium-robotics 1.4 prints a notice about its Adroit hand envs to stderr. It has
nothing to do with the Fetch machinery herdemos uses, yet it would be the first line of every
command that builds a stacking or WAM env. Modules that need gymnasium-robotics import it from
here, so whichever comes first imports it quietly (later imports are cached and print nothing).
The Fetch ids that ``import herdemos`` registers point here for the same reason: importing
gymnasium-robotics re-registers them, which would warn about each id outside this mute.
"""

from __future__ import annotations

import contextlib
import io
import warnings

with (
    contextlib.redirect_stdout(io.StringIO()),
    contextlib.redirect_stderr(io.StringIO()),
    warnings.catch_warnings(),
):
    warnings.simplefilter("ignore")
    import gymnasium_robotics
    from gymnasium_robotics.envs import robot_env
    from gymnasium_robotics.envs.fetch.fetch_env import MujocoFetchEnv
    from gymnasium_robotics.envs.fetch.pick_and_place import MujocoFetchPickAndPlaceEnv
    from gymnasium_robotics.envs.fetch.push import MujocoFetchPushEnv
    from gymnasium_robotics.envs.fetch.reach import MujocoFetchReachEnv
    from gymnasium_robotics.envs.fetch.slide import MujocoFetchSlideEnv
    from gymnasium_robotics.utils import rotations

__all__ = [
    "MujocoFetchEnv",
    "MujocoFetchPickAndPlaceEnv",
    "MujocoFetchPushEnv",
    "MujocoFetchReachEnv",
    "MujocoFetchSlideEnv",
    "gymnasium_robotics",
    "robot_env",
    "rotations",
]
