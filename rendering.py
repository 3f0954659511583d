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
INSTALL_COMMANDS = {"egl": "apt-get install libegl1", "osmesa": "apt-get install libosmesa6"}


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def library_loadable(name: str) -> bool:
    """Whether the shared library ``lib<name>`` can be loaded: ctypes' search first, then the
    versioned file names that PyOpenGL itself tries, which that search can miss."""
    if ctypes.util.find_library(name):
        return True
    for candidate in (f"lib{name}.so", *(f"lib{name}.so.{v}" for v in range(9, -1, -1))):
        try:
            ctypes.CDLL(candidate)
        except OSError:
            continue
        return True
    return False


def check_forced_backend() -> None:
    """Refuses a ``MUJOCO_GL`` set to egl or osmesa whose library is missing.

    MuJoCo imports that backend's OpenGL binding as soon as it is imported itself, and without
    the library PyOpenGL fails deep inside with a long traceback that names no package to
    install. Call this before anything imports MuJoCo.

    Raises:
        HerdemosError: naming the package to install.
    """
    backend = os.environ.get("MUJOCO_GL", "").strip().lower()
    library = BACKEND_LIBRARIES.get(backend)
    if library and not library_loadable(library):
        raise HerdemosError(
            f"MUJOCO_GL={backend}: lib{library} is not installed; "
            f"`{INSTALL_COMMANDS[backend]}`, or unset MUJOCO_GL"
        )


def choose_headless_backend() -> str:
    """Sets ``MUJOCO_GL`` to the first available headless backend (egl, then osmesa).

    A value the user already set is respected, once its library is known to be there.

    Raises:
        HerdemosError: no backend library is installed (or not the one ``MUJOCO_GL`` names),
            or MuJoCo was imported too early.
    """
    if os.environ.get("MUJOCO_GL"):
        check_forced_backend()
        return os.environ["MUJOCO_GL"]
    if "mujoco" in sys.modules:
        raise HerdemosError("internal: choose the MuJoCo GL backend before importing mujoco")
    for backend, library in BACKEND_LIBRARIES.items():
        if library_loadable(library):
            os.environ["MUJOCO_GL"] = backend
            if backend == "osmesa":
                os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
            return backend
    raise HerdemosError(
        "--video: no headless OpenGL library found; install one, e.g. "
        f"`{INSTALL_COMMANDS['egl']}` (EGL) or `{INSTALL_COMMANDS['osmesa']}` (OSMesa)"
    )
