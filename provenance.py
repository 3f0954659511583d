"""Where a result came from: the command, the git commit, the machine and the package versions.

Every run folder gets ``provenance.json`` (one entry per training session, so a resumed run lists
each), and every benchmark results file carries the same record.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from herdemos.bounded_files import read_json_file
from herdemos.minari_io import dataset_sha256, is_minari_source
from herdemos.util import atomic_write_text

PACKAGES = (
    "herdemos",
    "tensorflow-cpu",
    "tensorflow",
    "numpy",
    "mujoco",
    "gymnasium",
    "gymnasium-robotics",
    "mpi4py",
    "minari",
)
"""The installed packages whose versions a record names (those present)."""

FILE_NAME = "provenance.json"


def provenance(command: list[str]) -> dict[str, Any]:
    """Command, git commit (None outside a git checkout), machine and package versions."""
    root = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    packages = {}
    for name in PACKAGES:
        with contextlib.suppress(PackageNotFoundError):
            packages[name] = version(name)
    return {
        "command": " ".join(command),
        "git_commit": commit,
        "machine": {"cores": os.cpu_count(), "cpu_model": cpu, "python": sys.version.split()[0]},
        "packages": packages,
    }


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record_session(logdir: Path, command: list[str], demo_file: str | None) -> None:
    """Appends this training session's record to ``logdir/provenance.json``.

    A damaged or foreign file is kept aside as ``provenance.json.bad``, never lost.
    """
    path = logdir / FILE_NAME
    sessions: list[Any] = []
    if path.exists():
        try:
            sessions = read_json_file(path)["sessions"]
            if not isinstance(sessions, list):
                raise TypeError("sessions is not a list")
        except (OSError, ValueError, KeyError, TypeError):
            os.replace(path, path.with_name(FILE_NAME + ".bad"))
            sessions = []
    entry = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **provenance(command)}
    if demo_file is not None:
        if is_minari_source(demo_file):  # a Minari dataset: one hash over its files
            digest = dataset_sha256(demo_file)
            entry["demo_file"] = {"minari_dataset": str(demo_file), "sha256": digest}
        else:
            entry["demo_file"] = {"path": str(demo_file), "sha256": file_sha256(demo_file)}
    atomic_write_text(path, json.dumps({"sessions": [*sessions, entry]}, indent=2) + "\n")
