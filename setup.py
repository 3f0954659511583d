"""Packaging for herdemos: the repository root *is* the ``herdemos`` package.

The metadata, dependencies, extras and console scripts are in ``pyproject.toml``. This file
keeps only what ``pyproject.toml`` cannot say: ``package_dir={"herdemos": "."}`` maps the root
folder to the package name, so the design card's flat layout (``ddpg.py``, ``her.py`` ... at the
top level) is importable as ``herdemos.ddpg`` after both ``pip install .`` and
``pip install -e .``; the subpackages under the root are found from that mapping; and this file,
which sits in the package folder, is left out of the wheel.
"""

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

# The command, demo and env subpackages under the root; tests/ and benchmarks/ are not installed.
SUBPACKAGES = find_packages(include=["experiment", "data_generation", "data_generation.*", "envs"])

NOT_SHIPPED = {"setup.py"}
"""Modules of the root folder that are the build's, not the package's."""


class BuildPyWithoutSetup(build_py):
    """Every module of the package folder except :data:`NOT_SHIPPED`."""

    def find_package_modules(self, package: str, package_dir: str) -> list[tuple[str, str, str]]:
        modules = super().find_package_modules(package, package_dir)
        if package != "herdemos":
            return modules
        return [m for m in modules if f"{m[1]}.py" not in NOT_SHIPPED]


setup(
    package_dir={"herdemos": "."},
    packages=["herdemos", *(f"herdemos.{name}" for name in SUBPACKAGES)],
    cmdclass={"build_py": BuildPyWithoutSetup},
)
