"""Demonstration files: the format and its validated loading.

Format (one ``.npz`` of plain numeric arrays; loads with ``allow_pickle=False``):

=================== ======================= =============================================
key                 shape                   meaning
=================== ======================= =============================================
``o``               (N, T+1, dim_o)         observations
``ag``              (N, T+1, dim_g)         achieved goals
``g``               (N, T, dim_g)           desired goals
``u``               (N, T, dim_u)           actions
``info_is_success`` (N, T, 1)               the env's ``is_success`` after each step
``sim_state``       (N, T+1, S)             MuJoCo state before each step (optional)
``length``          (N,) int                episode i has length[i] steps, padded to T
                                            (optional; :mod:`herdemos.ragged`)
``metadata``        0-d str                 JSON: env id, dims, T, generator, seed, ...
=================== ======================= =============================================

``--demo_file`` may also name a Minari dataset, read into these arrays by
:mod:`herdemos.minari_io`.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from herdemos import minari_io
from herdemos.config import Config
from herdemos.env_info import EnvInfo
from herdemos.ragged import LENGTH, episode_lengths, final_success
from herdemos.util import HerdemosError, atomic_write

EPISODE_KEYS = ("o", "ag", "g", "u", "info_is_success")
FORMAT = "herdemos-demos-v1"


@dataclass
class DemoData:
    """Demo episodes in buffer format, simulator states if recorded, and metadata.

    ``episodes`` may hold ``length`` (int, ``(N,)``) for episodes shorter than T, padded as
    :mod:`herdemos.ragged` says; :func:`herdemos.ragged.pad_episodes` builds such arrays.
    """

    episodes: dict[str, np.ndarray]
    sim_state: np.ndarray | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def n_episodes(self) -> int:
        return int(self.episodes["u"].shape[0])

    @property
    def lengths(self) -> np.ndarray:
        """Each episode's number of steps (T for all in files without ``length``)."""
        return episode_lengths(self.episodes)

    @property
    def success_rate(self) -> float:
        """The fraction of episodes whose last valid step is a success."""
        return float(final_success(self.episodes).mean())

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays of the ``.npz`` file, exactly as :meth:`save` writes them."""
        arrays = {k: np.asarray(self.episodes[k], np.float32) for k in EPISODE_KEYS}
        if LENGTH in self.episodes:
            arrays[LENGTH] = np.asarray(self.episodes[LENGTH], np.int64)
        if self.sim_state is not None:
            arrays["sim_state"] = np.asarray(self.sim_state, np.float64)
        meta = {"format": FORMAT, **self.metadata}
        arrays["metadata"] = np.array(json.dumps(meta, sort_keys=True))
        return arrays

    def save(self, path: str | os.PathLike) -> None:
        """Atomically writes the ``.npz`` (compressed: demo files are mostly smooth floats)."""
        arrays = self.to_arrays()
        atomic_write(path, lambda f: np.savez_compressed(f, **arrays))


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """Reads every array once, eagerly, refusing object arrays (they would need unpickling)."""
    if not path.is_file():
        raise HerdemosError(f"{path}: no such demo file")
    if path.stat().st_size == 0:
        raise HerdemosError(f"{path}: empty file, not a demo .npz")
    if not zipfile.is_zipfile(path):
        raise HerdemosError(f"{path}: not an .npz file (no zip archive inside), or truncated")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except ValueError as e:
        if "allow_pickle" in str(e) or "Object arrays" in str(e):
            raise HerdemosError(
                f"{path}: holds pickled objects (the original project's format?); convert it "
                "with `python data_generation/convert_legacy_demos.py` if you trust it"
            ) from None
        raise HerdemosError(f"{path}: not a valid .npz demo file ({e})") from None
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as e:
        kind = type(e).__name__
        raise HerdemosError(f"{path}: not a readable .npz file, or truncated ({kind})") from None
    except Exception as e:  # zlib.error, struct.error ... from corrupted members
        raise HerdemosError(f"{path}: corrupted .npz file ({type(e).__name__})") from None


def load_demo_source(source: str | os.PathLike, info: EnvInfo, num_demo: int) -> DemoData:
    """Loads the demos that ``--demo_file`` names: a ``.npz`` demo file, or a Minari dataset
    (an id in the local Minari folder, or a dataset's folder; see :mod:`herdemos.minari_io`).

    Raises:
        HerdemosError: a one-line message naming ``source`` and the problem.
    """
    if minari_io.is_minari_source(source):
        arrays = minari_io.minari_demo_arrays(source, info.horizon, num_demo)
        return demos_from_arrays(arrays, source, info, num_demo)
    return load_demos(source, info, num_demo)


def load_demos(
    path: str | os.PathLike, info: EnvInfo | None = None, num_demo: int | None = None
) -> DemoData:
    """Loads and validates a demo file; returns its first ``num_demo`` episodes.

    Args:
        path: the ``.npz`` file.
        info: the env the demos are for; dims and T are checked against it.
        num_demo: how many episodes are needed (None: all).

    Raises:
        HerdemosError: a one-line message naming the file and the problem.
    """
    path = Path(path)
    return demos_from_arrays(_read_npz(path), path, info, num_demo)


def demos_from_arrays(
    arrays: dict[str, np.ndarray],
    path: str | os.PathLike,
    info: EnvInfo | None = None,
    num_demo: int | None = None,
) -> DemoData:
    """Validates a demo file's arrays (see :func:`load_demos`) and returns its first
    ``num_demo`` episodes; ``path`` names the file in errors. Converters call this on arrays
    they are about to write, so a file that would not load is never written.

    Raises:
        HerdemosError: a one-line message naming ``path`` and the problem.
    """
    missing = [k for k in EPISODE_KEYS if k not in arrays]
    if missing:
        raise HerdemosError(f"{path}: missing keys {missing}; found {sorted(arrays)}")
    for key in EPISODE_KEYS:
        a = arrays[key]
        if a.dtype.kind not in "fiub" or a.ndim != 3:
            raise HerdemosError(
                f"{path}: '{key}' must be a numeric 3-D array, got {a.dtype} {a.shape}"
            )
    if arrays["info_is_success"].shape[2] != 1:
        raise HerdemosError(f"{path}: 'info_is_success' must have last dimension 1")
    n, horizon = arrays["u"].shape[:2]
    expected_rows = {"o": horizon + 1, "ag": horizon + 1, "g": horizon, "info_is_success": horizon}
    for key, rows in expected_rows.items():
        if arrays[key].shape[:2] != (n, rows):
            raise HerdemosError(
                f"{path}: '{key}' has shape {arrays[key].shape}, expected ({n}, {rows}, ...)"
            )
    if info is not None:
        if horizon != info.horizon:
            raise HerdemosError(
                f"{path}: episodes have T={horizon}, {info.env_id} has T={info.horizon}"
            )
        for key, dim in (
            ("o", info.dim_o),
            ("ag", info.dim_g),
            ("g", info.dim_g),
            ("u", info.dim_u),
        ):
            if arrays[key].shape[2] != dim:
                raise HerdemosError(
                    f"{path}: '{key}' has dim {arrays[key].shape[2]}, {info.env_id} needs {dim}"
                )
    check_lengths(arrays.get(LENGTH), n, horizon, path)
    if num_demo is not None and n < num_demo:
        raise HerdemosError(f"{path}: holds {n} episodes, fewer than --num_demo {num_demo}")
    take = n if num_demo is None else num_demo
    episodes = {k: arrays[k][:take].astype(np.float32) for k in EPISODE_KEYS}
    if LENGTH in arrays:
        episodes[LENGTH] = arrays[LENGTH][:take].astype(np.int64)
    for key, a in episodes.items():
        if not np.all(np.isfinite(a)):
            raise HerdemosError(f"{path}: '{key}' contains NaN or Inf values")
    if info is not None:
        # The env clips actions to its bound, so that is what the demonstrator did; an unclipped
        # target would ask the tanh-bounded actor for an action it cannot output.
        episodes["u"] = np.clip(episodes["u"], -info.max_u, info.max_u)
    sim_state = arrays.get("sim_state")
    if sim_state is not None:
        if sim_state.dtype.kind not in "fiu":
            raise HerdemosError(f"{path}: 'sim_state' must be numeric, got {sim_state.dtype}")
        if sim_state.ndim != 3 or sim_state.shape[:2] != (n, horizon + 1):
            raise HerdemosError(f"{path}: 'sim_state' has shape {sim_state.shape}")
        sim_state = sim_state[:take].astype(np.float64)
        if not np.all(np.isfinite(sim_state)):
            raise HerdemosError(f"{path}: 'sim_state' contains NaN or Inf values")
    metadata: dict[str, Any] = {}
    if "metadata" in arrays:
        try:
            metadata = json.loads(str(arrays["metadata"]))
        except (json.JSONDecodeError, TypeError):
            raise HerdemosError(f"{path}: 'metadata' is not a JSON string") from None
        if not isinstance(metadata, dict):
            raise HerdemosError(f"{path}: 'metadata' must be a JSON object")
    return DemoData(episodes, sim_state, metadata)


def check_lengths(length: np.ndarray | None, n: int, horizon: int, path: str | os.PathLike) -> None:
    """Refuses a ``length`` array that is not integer, not ``(n,)`` or outside ``1..T``."""
    if length is None:
        return
    if length.dtype.kind not in "iu" or length.shape != (n,):
        raise HerdemosError(
            f"{path}: 'length' must be an integer array of shape ({n},), "
            f"got {length.dtype} {length.shape}"
        )
    if n and (length.min() < 1 or length.max() > horizon):
        raise HerdemosError(
            f"{path}: 'length' must be within 1..{horizon} (T), got {length.min()}..{length.max()}"
        )


# Loads the demos a run uses without --demo_file: (env_id, num_demo, info, log) -> demos.
DefaultDemos = Callable[[str, int, EnvInfo, Callable[[str], None]], DemoData]


def load_run_demos(
    config: Config, info: EnvInfo, log: Callable[[str], None], default_demos: DefaultDemos
) -> DemoData | None:
    """The demos a run asks for: ``--demo_file``, or the default demos, or none.

    Args:
        config: the run's configuration.
        info: the env the demos are for.
        log: where human-readable lines go.
        default_demos: ``f(env_id, num_demo, info, log)``, the demos used without
            ``--demo_file`` (the command passes the cached scripted demos of
            :mod:`herdemos.data_generation`, which the core does not import).
    """
    demo = config.demo
    if demo.num_demo <= 0:
        return None
    if demo.demo_file is not None:
        data = load_demo_source(demo.demo_file, info, demo.num_demo)
        lengths = data.lengths
        steps = f" of {lengths.min()}..{lengths.max()} steps" if LENGTH in data.episodes else ""
        log(f"loaded {data.n_episodes} demos{steps} from {demo.demo_file}")
        log(f"demo success rate {data.success_rate:.2f}")
        return data
    return default_demos(info.env_id, demo.num_demo, info, log)
