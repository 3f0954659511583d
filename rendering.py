"""Choosing a headless OpenGL backend for MuJoCo before MuJoCo is imported.

MuJoCo reads ``MUJOCO_GL`` once, at import time, so the choice has to be made first. EGL (GPU or
Mesa's EGL) is fastest; OSMesa is pure software and works everywhere ``libosmesa6`` is installed.
"""

from __future__ import annotations

import ctypes.util
import os
import sys

from herdemos.util import HerdemosError

BACKEND_LIBRARIES = {"egl": "EGL", "osmesa": "OSMesa"}


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def choose_headless_backend() -> str:
    """Sets ``MUJOCO_GL`` to the first available headless backend (egl, then osmesa).

    A value the user already set is respected.

    Raises:
        HerdemosError: no backend library is installed, or MuJoCo was imported too early.
    """
    if os.environ.get("MUJOCO_GL"):
        return os.environ["MUJOCO_GL"]
    if "mujoco" in sys.modules:
        raise HerdemosError("internal: choose the MuJoCo GL backend before importing mujoco")
    for backend, library in BACKEND_LIBRARIES.items():
        if ctypes.util.find_library(library):
            os.environ["MUJOCO_GL"] = backend
            if backend == "osmesa":
                os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
            return backend
    raise HerdemosError(
        "--video: no headless OpenGL library found; install one, e.g. "
        "`apt-get install libegl1` (EGL) or `apt-get install libosmesa6` (OSMesa)"
    )
