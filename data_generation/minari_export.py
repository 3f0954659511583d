"""Writing herdemos demos as a Minari dataset, the inverse of :mod:`herdemos.minari_io`.

Each demo episode of ``L`` steps becomes one Minari episode: ``L + 1`` goal-env observations
(``desired_goal`` repeats the last goal once more, as the env's final observation does), ``L``
actions, the env's rewards recomputed with its ``compute_reward``, no termination and a
truncation at the last step (the episode ended by time, or the demonstrator stopped: Fetch envs
never terminate). The infos hold ``is_success`` (row 0 is the reset, where Fetch reports none:
0) and, if recorded, the MuJoCo ``sim_state`` before each step and after the last. The demo
file's metadata goes into the dataset metadata under ``herdemos_metadata`` (JSON).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from herdemos.demos import DemoData
from herdemos.env_info import reward_fn_of
from herdemos.minari_io import METADATA_KEY, datasets_root, import_minari, is_dataset_id
from herdemos.util import HerdemosError


def check_new_dataset_id(dataset_id: str) -> Path:
    """The folder a new dataset of this id would get, refused if the id is malformed or taken.

    Raises:
        HerdemosError: one line naming ``--dataset_id``.
    """
    if not is_dataset_id(dataset_id):
        raise HerdemosError(
            f"--dataset_id {dataset_id}: a Minari id has the form namespace/name-v0 "
            "(letters, digits, '-' and '_'; the namespace is optional)"
        )
    target = datasets_root() / dataset_id
    if target.exists():
        raise HerdemosError(
            f"--dataset_id {dataset_id}: {target} exists; choose another id or version (-v1)"
        )
    return target


def export_demos(data: DemoData, env: gym.Env, dataset_id: str, description: str) -> Path:
    """Writes ``data`` (demos of ``env``, checked to fit it) as the local Minari dataset
    ``dataset_id``; returns its folder.

    The dataset is built in a hidden folder under the Minari root and moved into place in one
    rename, so an interrupted export leaves no half-written dataset under the id.

    Raises:
        HerdemosError: the id is malformed or taken, or Minari is not installed.
    """
    target = check_new_dataset_id(dataset_id)
    minari = import_minari()
    from minari.data_collector import EpisodeBuffer
    from minari.namespace import NAMESPACE_METADATA_FILENAME

    buffers = list(_episode_buffers(data, env, EpisodeBuffer))
    metadata = json.loads(str(data.to_arrays()["metadata"]))  # as the .npz holds it
    root = datasets_root()
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".herdemos-export-", dir=root) as staging:
        with _minari_root(staging), warnings.catch_warnings():
            # Minari warns about each optional field left out (author, code link ...).
            warnings.filterwarnings("ignore", message=".*is set to None", category=UserWarning)
            dataset = minari.create_dataset_from_buffers(
                dataset_id,
                buffers,
                env=env,
                algorithm_name=str(data.metadata.get("generator", "herdemos")),
                description=description,
            )
            dataset.storage.update_metadata({METADATA_KEY: json.dumps(metadata, sort_keys=True)})
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(Path(staging) / dataset_id, target)
        # Minari marks each namespace folder with a file; keep those the root lacks.
        for parent in Path(dataset_id).parents[:-1]:
            marker = root / parent / NAMESPACE_METADATA_FILENAME
            made = Path(staging) / parent / NAMESPACE_METADATA_FILENAME
            if made.exists() and not marker.exists():
                os.replace(made, marker)
    return target


@contextlib.contextmanager
def _minari_root(folder: str) -> Iterator[None]:
    """Points Minari's datasets folder (``MINARI_DATASETS_PATH``) at ``folder`` for a while:
    Minari writes a new dataset only there."""
    previous = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = folder
    try:
        yield
    finally:
        if previous is None:
            del os.environ["MINARI_DATASETS_PATH"]
        else:
            os.environ["MINARI_DATASETS_PATH"] = previous


def _episode_buffers(data: DemoData, env: gym.Env, episode_buffer: type) -> Iterator[Any]:
    """One Minari ``EpisodeBuffer`` per demo episode (see the module docstring)."""
    ep = data.episodes
    success = ep["info_is_success"]
    rewards = np.asarray(reward_fn_of(env)(ep["ag"][:, 1:], ep["g"], {"is_success": success}))
    obs_dtype = {key: space.dtype for key, space in env.observation_space.spaces.items()}
    for i, steps in enumerate(data.lengths):
        goal = ep["g"][i, :steps]
        observations = {
            "observation": ep["o"][i, : steps + 1],
            "achieved_goal": ep["ag"][i, : steps + 1],
            "desired_goal": np.concatenate([goal, goal[-1:]]),
        }
        infos = {"is_success": np.concatenate([[0.0], success[i, :steps, 0]]).astype(np.float32)}
        if data.sim_state is not None:
            infos["sim_state"] = data.sim_state[i, : steps + 1]
        truncations = np.zeros(steps, bool)
        truncations[-1] = True
        yield episode_buffer(
            id=i,
            observations={k: v.astype(obs_dtype[k]) for k, v in observations.items()},
            actions=ep["u"][i, :steps].astype(env.action_space.dtype),
            rewards=rewards[i, :steps].astype(np.float64),
            terminations=np.zeros(steps, bool),
            truncations=truncations,
            infos=infos,
        )
