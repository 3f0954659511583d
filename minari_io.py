"""Minari datasets as demonstrations: finding them, and reading them into demo-file arrays.

``--demo_file`` may name a Minari dataset (https://minari.farama.org) instead of a ``.npz``: a
dataset id found in the local Minari folder (``$MINARI_DATASETS_PATH``, else
``~/.minari/datasets``) or the path of a dataset's folder. Nothing is ever downloaded.

A dataset's episodes map onto the demo format (see :mod:`herdemos.demos`) as follows, for an
episode of ``L`` steps (Minari keeps ``L + 1`` observations and infos, the first from the
reset):

=================================== ==========================================
Minari                              demo arrays
=================================== ==========================================
``observations["observation"]``     ``o`` (L+1 rows)
``observations["achieved_goal"]``   ``ag`` (L+1 rows)
``observations["desired_goal"]``    ``g``: its first L rows
``actions``                         ``u``
``infos["is_success"]`` rows 1..L   ``info_is_success``; without it, ``rewards == 0`` when
                                    every reward is 0 or -1 (goal envs' sparse reward)
``infos["sim_state"]``              ``sim_state`` (L+1 rows), if every episode has it
metadata ``herdemos_metadata``      ``metadata`` (JSON), if herdemos wrote the dataset
=================================== ==========================================

Episodes shorter than the env's horizon T are padded to T and counted in ``length``. The
``minari`` package is imported only when a dataset is read, so herdemos works without it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from herdemos.bounded_files import Refused, loads_json
from herdemos.environment import GOAL_KEYS
from herdemos.ragged import LENGTH, pad_episodes
from herdemos.util import HerdemosError

INSTALL = "pip install herdemos[minari]"
METADATA_KEY = "herdemos_metadata"
"""The dataset-metadata key holding a herdemos demo file's metadata, as a JSON string."""

# Minari's dataset ids: (namespace/)name-vN, e.g. "D4RL/door/human-v2".
_DATASET_ID = re.compile(r"(?:[-\w][-\w/]*[-\w]+/)?[-\w]+?-v\d+")


def import_minari() -> Any:
    """The ``minari`` module, or a one-line error saying how to install it."""
    try:
        import minari
    except ImportError:
        raise HerdemosError(f"Minari datasets need the minari package: {INSTALL}") from None
    return minari


def datasets_root() -> Path:
    """The local Minari datasets folder, chosen the way Minari chooses it."""
    root = os.environ.get("MINARI_DATASETS_PATH")
    return Path(root) if root is not None else Path.home() / ".minari" / "datasets"


def is_dataset_id(name: str) -> bool:
    """True if ``name`` has the form of a Minari dataset id (``namespace/name-v0``)."""
    return _DATASET_ID.fullmatch(name) is not None


def is_minari_source(source: str | os.PathLike) -> bool:
    """True if a ``--demo_file`` names a Minari dataset: a folder, or a dataset id that is not a
    file. Anything else (``*.npz``, an existing file) is a demo file."""
    path = Path(source)
    if path.is_dir():
        return True
    if path.suffix == ".npz" or path.exists():
        return False
    return is_dataset_id(str(source))


def dataset_folder(source: str | os.PathLike) -> Path:
    """The folder holding a dataset's ``metadata.json`` (Minari's ``data`` folder).

    Args:
        source: a dataset id in :func:`datasets_root`, or the path of a dataset's folder (the
            one named by its id, or the ``data`` folder inside it).

    Raises:
        HerdemosError: not a dataset folder, or no local dataset of that id.
    """
    path = Path(source)
    if path.is_dir():
        for folder in (path / "data", path):
            if (folder / "metadata.json").is_file():
                return folder
        raise HerdemosError(f"{source}: not a Minari dataset folder (no data/metadata.json)")
    root = datasets_root()
    folder = root / str(source) / "data"
    if not (folder / "metadata.json").is_file():
        raise HerdemosError(
            f"{source}: no local Minari dataset of this id (looked in {root}; "
            f"MINARI_DATASETS_PATH sets the folder); herdemos never downloads: "
            f"`minari download {source}` does, or give the dataset's folder"
        )
    return folder


def dataset_sha256(source: str | os.PathLike) -> str:
    """One SHA-256 over every file of a dataset (relative names and bytes, in name order)."""
    folder = dataset_folder(source)
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def open_dataset(source: str | os.PathLike) -> Any:
    """The :class:`minari.MinariDataset` that ``source`` names (see :func:`dataset_folder`)."""
    folder = dataset_folder(source)
    minari = import_minari()
    try:
        return minari.MinariDataset(folder)
    except ImportError as e:  # a storage backend (h5py, pyarrow) that is not installed
        raise HerdemosError(f"{source}: {e}") from None
    except (ValueError, KeyError, TypeError, OSError, AssertionError, json.JSONDecodeError) as e:
        raise HerdemosError(
            f"{source}: not a readable Minari dataset ({type(e).__name__}: {e})"
        ) from None


def herdemos_metadata(dataset: Any, source: str | os.PathLike) -> dict[str, Any] | None:
    """The herdemos demo-file metadata stored in the dataset, or None if herdemos did not write
    it."""
    text = dataset.storage.metadata.get(METADATA_KEY)
    if text is None:
        return None
    if not isinstance(text, str):
        raise HerdemosError(f"{source}: '{METADATA_KEY}' is not a JSON string")
    try:
        metadata = loads_json(text)
    except Refused as e:
        raise HerdemosError(f"{source}: '{METADATA_KEY}' is not a JSON string ({e})") from None
    if not isinstance(metadata, dict):
        raise HerdemosError(f"{source}: '{METADATA_KEY}' must be a JSON object")
    return metadata


def recorded_env_id(dataset: Any, source: str | os.PathLike) -> str | None:
    """The env the dataset was recorded in: herdemos' metadata, else the dataset's env spec."""
    metadata = herdemos_metadata(dataset, source)
    if metadata is not None and metadata.get("env_id") is not None:
        return metadata["env_id"]
    spec = dataset.env_spec
    return None if spec is None else spec.id


def minari_demo_arrays(
    source: str | os.PathLike, horizon: int, num_demo: int | None = None
) -> dict[str, np.ndarray]:
    """Reads a dataset's first ``num_demo`` episodes (None: all) as demo-file arrays, to be
    validated by :func:`herdemos.demos.demos_from_arrays` like a ``.npz``'s."""
    return demo_arrays(open_dataset(source), source, horizon, num_demo)


def demo_arrays(
    dataset: Any, source: str | os.PathLike, horizon: int, num_demo: int | None = None
) -> dict[str, np.ndarray]:
    """An opened dataset's episodes as demo-file arrays, padded to ``horizon`` (T).

    Raises:
        HerdemosError: one line naming ``source``: observations that are not a goal env's dict,
            an episode longer than T, no success flags, or inconsistent shapes.
    """
    total = dataset.total_episodes
    if total == 0:
        raise HerdemosError(f"{source}: the dataset holds no episodes")
    count = total if num_demo is None else min(num_demo, total)
    rows = [_episode_rows(ep, source, horizon) for ep in dataset.iterate_episodes(range(count))]
    with_state = [("sim_state" in row) for row in rows]
    if not all(with_state):
        for row in rows:
            row.pop("sim_state", None)
    try:
        arrays = pad_episodes(rows, horizon)
    except ValueError as e:
        raise HerdemosError(f"{source}: {e}") from None
    if np.all(arrays[LENGTH] == horizon):
        del arrays[LENGTH]  # full-length episodes need no lengths, as in a generated file
    metadata = herdemos_metadata(dataset, source)
    if metadata is None:
        metadata = {
            "env_id": recorded_env_id(dataset, source),
            "source": f"Minari dataset {dataset.spec.dataset_id}",
            "generator": dataset.storage.metadata.get("algorithm_name"),
            "n_episodes": total,
        }
    arrays["metadata"] = np.array(json.dumps(metadata, sort_keys=True))
    return arrays


def _episode_rows(episode: Any, source: str | os.PathLike, horizon: int) -> dict[str, Any]:
    """One Minari episode as unpadded demo rows (see the table in the module docstring)."""
    obs = episode.observations
    if not isinstance(obs, Mapping) or any(key not in obs for key in GOAL_KEYS):
        found = sorted(obs) if isinstance(obs, Mapping) else type(obs).__name__
        raise HerdemosError(
            f"{source}: observations must be a goal env's dict with keys {list(GOAL_KEYS)}, "
            f"found {found}"
        )
    actions = episode.actions
    if not isinstance(actions, np.ndarray) or actions.ndim != 2:
        raise HerdemosError(f"{source}: actions must be one vector per step")
    steps = len(actions)
    if not 1 <= steps <= horizon:
        raise HerdemosError(
            f"{source}: episode {episode.id} has {steps} steps; the env's episodes have "
            f"T={horizon}, and a demo can have 1 to T"
        )
    infos = episode.infos or {}
    row: dict[str, Any] = {
        "o": obs["observation"],
        "ag": obs["achieved_goal"],
        "g": obs["desired_goal"][:steps],
        "u": actions,
        "info_is_success": _success(episode, infos, steps, source)[:, None],
    }
    state = infos.get("sim_state")
    if isinstance(state, np.ndarray) and state.dtype.kind in "fiu" and state.ndim == 2:
        row["sim_state"] = state
    return row


def _success(
    episode: Any, infos: Mapping[str, Any], steps: int, source: str | os.PathLike
) -> np.ndarray:
    """``is_success`` after each step: from the infos (row 0 is the reset's), else from sparse
    rewards."""
    flags = infos.get("is_success")
    if flags is not None:
        flags = np.asarray(flags, np.float64).reshape(len(flags), -1)[:, 0]
        if len(flags) in (steps, steps + 1):
            return flags[-steps:]
        raise HerdemosError(
            f"{source}: episode {episode.id} has {len(flags)} is_success flags for {steps} steps"
        )
    rewards = np.asarray(episode.rewards, np.float64)
    if np.all((rewards == 0) | (rewards == -1)):
        return (rewards == 0).astype(np.float64)
    raise HerdemosError(
        f"{source}: no 'is_success' in the infos, and the rewards are not a goal env's sparse "
        "0/-1, so success cannot be told"
    )
