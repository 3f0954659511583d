"""A forced MUJOCO_GL whose library is missing is one line naming the package to install."""

import ctypes
import ctypes.util

import pytest
from cli_asserts import python_path
from test_use_policy import random_policy, run

from herdemos import rendering
from herdemos.util import HerdemosError

# Makes the OpenGL libraries unloadable in a child process, as on a system without them.
MISSING_GL = """
import ctypes, ctypes.util
_load, _find = ctypes.CDLL.__init__, ctypes.util.find_library
def _refuse(self, name, *args, **kwargs):
    if name and ("OSMesa" in str(name) or "libEGL" in str(name)):
        raise OSError(f"{name}: cannot open shared object file: No such file or directory")
    return _load(self, name, *args, **kwargs)
ctypes.CDLL.__init__ = _refuse
ctypes.util.find_library = lambda name: None if name in ("OSMesa", "EGL") else _find(name)
"""


@pytest.fixture
def no_gl_libraries(monkeypatch):
    def refuse(self, name, *args, **kwargs):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    monkeypatch.setattr(ctypes.CDLL, "__init__", refuse)


@pytest.mark.parametrize(
    ("backend", "install"),
    [("osmesa", "apt-get install libosmesa6"), ("egl", "apt-get install libegl1")],
)
def test_a_forced_backend_without_its_library_names_the_package(
    monkeypatch, no_gl_libraries, backend, install
):
    monkeypatch.setenv("MUJOCO_GL", backend)
    for check in (rendering.check_forced_backend, rendering.choose_headless_backend):
        with pytest.raises(HerdemosError, match=f"MUJOCO_GL={backend}: .*`{install}`"):
            check()


def test_other_backends_and_installed_libraries_pass(monkeypatch):
    monkeypatch.setenv("MUJOCO_GL", "glfw")
    rendering.check_forced_backend()  # not ours to check: it needs a display, not a library
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: f"lib{name}.so.1")
    monkeypatch.setenv("MUJOCO_GL", "osmesa")
    rendering.check_forced_backend()


@pytest.mark.parametrize(("backend", "package"), [("osmesa", "libosmesa6"), ("egl", "libegl1")])
@pytest.mark.parametrize("filming", [False, True])
def test_play_with_a_forced_backend_missing_its_library_is_one_line(
    tmp_path, backend, package, filming
):
    """Used to be a long PyOpenGL traceback from MuJoCo's import."""
    (tmp_path / "sitecustomize.py").write_text(MISSING_GL)
    policy = str(random_policy(tmp_path / "p.pkl"))
    video = ["--video", str(tmp_path / "v.mp4")] if filming else []
    result = run(
        "experiment/play.py",
        policy,
        *video,
        extra_env={"PYTHONPATH": python_path(tmp_path), "MUJOCO_GL": backend},
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert f"apt-get install {package}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("backend", "package"), [("osmesa", "libosmesa6"), ("egl", "libegl1")])
def test_train_with_a_forced_backend_missing_its_library_is_one_line(tmp_path, backend, package):
    """Training renders nothing, but MuJoCo's import loads the forced backend all the same."""
    (tmp_path / "sitecustomize.py").write_text(MISSING_GL)
    result = run(
        "experiment/train.py",
        "--env",
        "FetchReach-v4",
        "--logdir",
        str(tmp_path / "run"),
        extra_env={"PYTHONPATH": python_path(tmp_path), "MUJOCO_GL": backend},
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert f"apt-get install {package}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("backend", "package"), [("osmesa", "libosmesa6"), ("egl", "libegl1")])
def test_demo_generation_with_a_forced_backend_missing_its_library_is_one_line(
    tmp_path, backend, package
):
    """Any command that makes a Fetch env checks first: gymnasium-robotics imports MuJoCo."""
    (tmp_path / "sitecustomize.py").write_text(MISSING_GL)
    out = tmp_path / "demos.npz"
    result = run(
        "data_generation/fetch_data_generation.py",
        "--num_episodes",
        "1",
        "--out",
        str(out),
        extra_env={"PYTHONPATH": python_path(tmp_path), "MUJOCO_GL": backend},
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert f"apt-get install {package}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()
