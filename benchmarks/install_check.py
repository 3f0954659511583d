"""Do herdemos' requirements resolve to wheels on every platform that TensorFlow has wheels for?

python -m benchmarks.install_check    # writes benchmarks/results/install/resolution.json

For each platform, pip resolves ``pyproject.toml``'s dependencies (and the extras asked for) with
``--only-binary=:all:`` and that platform's wheel tags, as ``pip install`` would there, without
installing or building anything. pip evaluates environment markers for the machine it runs on,
even with ``--platform``; so pip runs here with its marker environment replaced by the target
platform's, and markers deep in the dependency tree (``sys_platform == 'darwin'`` ...) are judged
as on that platform too. Needs the package index; tests/test_packaging.py checks the markers
offline.
"""

from __future__ import annotations

import json
import platform as host
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import click
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the TOML reader that pip vendors
    from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "install" / "resolution.json"
PYTHON = "3.11"
GLIBC_MINOR = 28
"""manylinux_2_28 (glibc 2.28, e.g. Debian 10, RHEL 8) and older wheels: what a current Linux
machine accepts."""


@dataclass(frozen=True)
class Platform:
    """A place to install on: its PEP 508 marker values and the wheel tags pip accepts there."""

    sys_platform: str
    platform_system: str
    platform_machine: str
    os_name: str
    pip_platforms: tuple[str, ...]

    def marker_environment(self, extra: str = "") -> dict[str, str]:
        """The values PEP 508 markers are evaluated against, for CPython :data:`PYTHON`."""
        return {
            "implementation_name": "cpython",
            "implementation_version": f"{PYTHON}.0",
            "os_name": self.os_name,
            "platform_machine": self.platform_machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": self.platform_system,
            "platform_version": "",
            "python_full_version": f"{PYTHON}.0",
            "python_version": PYTHON,
            "sys_platform": self.sys_platform,
            "extra": extra,
        }


def manylinux(arch: str) -> tuple[str, ...]:
    """Every manylinux tag a glibc-2.:data:`GLIBC_MINOR` machine of ``arch`` accepts, newest first
    (pip does not expand ``manylinux_2_28`` to the older tags itself)."""
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(GLIBC_MINOR, 4, -1)]
    legacy = ["manylinux2014"] + (["manylinux2010", "manylinux1"] if arch == "x86_64" else [])
    return (*tags, *(f"{name}_{arch}" for name in legacy))


PLATFORMS: dict[str, Platform] = {
    "linux-x86_64": Platform("linux", "Linux", "x86_64", "posix", manylinux("x86_64")),
    "linux-aarch64": Platform("linux", "Linux", "aarch64", "posix", manylinux("aarch64")),
    # macOS 14 (Sonoma); pip expands the tag to older macOS versions and universal2 itself.
    "macos-arm64": Platform("darwin", "Darwin", "arm64", "posix", ("macosx_14_0_arm64",)),
    "windows-x86_64": Platform("win32", "Windows", "AMD64", "nt", ("win_amd64",)),
}


def project() -> dict:
    """The ``[project]`` table of ``pyproject.toml``."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def declared_requirements(extras: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """``(requirement, extra)`` pairs: the dependencies (extra ``""``), then each extra's."""
    table = project()
    pairs = [(r, "") for r in table["dependencies"]]
    for extra in extras:
        pairs += [(r, extra) for r in table["optional-dependencies"][extra]]
    return pairs


def requirements_for(platform: Platform, extras: tuple[str, ...] = ()) -> list[Requirement]:
    """The requirements that apply on ``platform`` once their markers are evaluated there."""
    chosen = []
    for text, extra in declared_requirements(extras):
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is None or marker.evaluate(platform.marker_environment(extra)):
            requirement.marker = None
            chosen.append(requirement)
    return chosen


# pip, with its vendored marker environment replaced by the one in argv[1].
PIP_WITH_MARKERS = """
import json, sys
import pip._vendor.packaging.markers as markers
target = json.loads(sys.argv[1])
markers.default_environment = lambda: dict(target)
from pip._internal.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def resolve(platform: Platform, extras: tuple[str, ...] = ()) -> dict:
    """pip's resolution on ``platform``: ``{"ok", "packages": {name: version}, "error"}``."""
    requirements = [str(r) for r in requirements_for(platform, extras)]
    environment = platform.marker_environment()
    del environment["extra"]  # pip sets it per requirement
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        tags = [arg for tag in platform.pip_platforms for arg in ("--platform", tag)]
        command = [
            sys.executable,
            "-c",
            PIP_WITH_MARKERS,
            json.dumps(environment),
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
            str(report),
            "--only-binary=:all:",
            "--python-version",
            PYTHON,
            "--implementation",
            "cp",
            "--abi",
            f"cp{PYTHON.replace('.', '')}",
            *tags,
            "--target",
            str(Path(tmp) / "target"),
            *requirements,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            return {"ok": False, "requirements": requirements, "error": lines[-3:]}
        installs = json.loads(report.read_text())["install"]
    versions = {
        canonicalize_name(i["metadata"]["name"]): i["metadata"]["version"] for i in installs
    }
    packages = dict(sorted(versions.items()))
    return {"ok": True, "requirements": requirements, "packages": packages}


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--platform",
    "names",
    multiple=True,
    type=click.Choice(sorted(PLATFORMS)),
    help="Platforms to resolve for.  [default: all]",
)
@click.option("--extras", default="", help="Comma-separated extras to resolve too, e.g. onnx.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=str(RESULTS),
    show_default=True,
    help="JSON file to write.",
)
def main(names: tuple[str, ...], extras: str, out: str) -> None:
    """Resolve herdemos' requirements for each platform's wheel tags with pip; exit 1 if any
    platform has no complete set of wheels."""
    from importlib.metadata import version

    from herdemos.util import atomic_write_text

    chosen_extras = tuple(e for e in extras.split(",") if e)
    results = {}
    for name in names or sorted(PLATFORMS):
        start = time.perf_counter()
        results[name] = resolve(PLATFORMS[name], chosen_extras)
        results[name]["seconds"] = round(time.perf_counter() - start, 1)
        verdict = (
            "resolves" if results[name]["ok"] else "FAILS: " + " ".join(results[name]["error"])
        )
        tf = {k: v for k, v in results[name].get("packages", {}).items() if k.startswith("tensorf")}
        click.echo(f"{name}: {verdict} {tf}")
    record = {
        "what": "pip's resolution of pyproject.toml's requirements per platform, wheels only",
        "command": "python -m benchmarks.install_check" + (f" --extras {extras}" if extras else ""),
        "python": PYTHON,
        "extras": list(chosen_extras),
        "pip": version("pip"),
        "host": f"{host.system()} {host.machine()}",
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "platforms": {
            name: {"tags": list(PLATFORMS[name].pip_platforms[:1]), **result}
            for name, result in results.items()
        },
    }
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, json.dumps(record, indent=1) + "\n")
    click.echo(f"wrote {out}")
    if not all(r["ok"] for r in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    sys.exit(main())
