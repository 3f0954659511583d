"""Checkpoint state fuzzed without TensorFlow or MuJoCo, for ``benchmarks/fuzz.py``.

The fuzzed kind is a checkpoint's state file (``state-rank0.npz``: buffers, normalisers, RNG
states and bookkeeping), which is plain NumPy and JSON. Importing TensorFlow and MuJoCo to
build a trainer would dominate the worker's memory, so a child process builds the trainer once,
saves a valid checkpoint and describes the run's parts (:func:`save_example`); the worker then
restores each input with :func:`herdemos.checkpoint.restore_run_checkpoint` into stand-ins of
those parts (:func:`standin_parts`): the real buffers and normalisers, which run every check of
a resume, and no networks. TF's own checkpoint files and training a cycle after a restore are
covered by ``tests/test_fuzz_files.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from herdemos.checkpoint import read_checkpoint_state
from herdemos.checkpoint_checks import check_noise_rng_state
from herdemos.config import Config
from herdemos.normalizer import Normalizer, load_normalizer_states
from herdemos.ragged import LENGTH
from herdemos.replay_buffer import EpisodeBuffer
from herdemos.util import atomic_write_json

PARTS = "parts.json"


def save_example(workdir: Path, env_id: str) -> None:
    """Writes a valid checkpoint into ``workdir`` and, next to it, ``parts.json``: the shapes
    of the run's parts that :func:`standin_parts` rebuilds. Imports TensorFlow and MuJoCo, so
    it runs in its own process (``python -m benchmarks.fuzz --save-checkpoint DIR``)."""
    from benchmarks.fuzz import valid_examples

    ctx = valid_examples(workdir, env_id, "checkpoint")
    parts = ctx["trainer"].parts

    def buffer(b: EpisodeBuffer | None) -> dict[str, Any] | None:
        if b is None:
            return None
        shapes = {k: v.shape[1:] for k, v in b.storage.items() if k != LENGTH}
        return {"shapes": shapes, "capacity": b.capacity, "lengths": LENGTH in b.storage}

    atomic_write_json(
        workdir / PARTS,
        {
            "folder": str(ctx["folder"]),
            "config": parts.config.to_dict(),
            "n_envs": [len(parts.envs), len(parts.eval_envs)],
            "buffer": buffer(parts.buffer),
            "demo_buffer": buffer(parts.demo_buffer),
            "normalizers": {
                "o_stats": parts.learner.o_stats.size,
                "g_stats": parts.learner.g_stats.size,
            },
            "noise_rng_shape": list(parts.learner.noise_rng.state.shape),
        },
    )


class StandinLearner:
    """The learner's checkpointed NumPy state, checked as :class:`herdemos.ddpg.DDPG` does."""

    def __init__(self, sizes: dict[str, int], noise_rng_shape: list[int]) -> None:
        self.norms = {name: Normalizer(size) for name, size in sizes.items()}
        self.noise_rng_shape = tuple(noise_rng_shape)

    def load_normalizer_state(self, state: dict[str, np.ndarray]) -> None:
        load_normalizer_states(state, self.norms)

    def set_noise_rng_state(self, state: np.ndarray) -> None:
        check_noise_rng_state(state, self.noise_rng_shape)

    def restore_tf_state(self, prefix: str) -> None:
        """TF's files are not this kind (see the module docstring)."""


class StandinWorker:
    """A rollout worker's pending seeds, checked as :class:`herdemos.rollout.RolloutWorker`."""

    def __init__(self, n_envs: int) -> None:
        self.n_envs = n_envs

    def set_pending_seeds(self, seeds: list[int | None]) -> None:
        if len(seeds) != self.n_envs:
            raise ValueError(f"{len(seeds)} seeds for {self.n_envs} envs")


def standin_parts(desc: dict[str, Any]) -> SimpleNamespace:
    """Fresh stand-ins of a run's parts, as ``parts.json`` describes them."""

    def buffer(d: dict[str, Any] | None) -> EpisodeBuffer | None:
        if d is None:
            return None
        shapes = {k: tuple(s) for k, s in d["shapes"].items()}
        return EpisodeBuffer(shapes, d["capacity"], sampler=None, lengths=d["lengths"])

    def envs(n: int) -> list[SimpleNamespace]:
        return [SimpleNamespace(unwrapped=SimpleNamespace(np_random=None)) for _ in range(n)]

    n_train, n_eval = desc["n_envs"]
    return SimpleNamespace(
        config=Config.from_dict(desc["config"]),
        rng=np.random.default_rng(),
        envs=envs(n_train),
        eval_envs=envs(n_eval),
        buffer=buffer(desc["buffer"]),
        demo_buffer=buffer(desc["demo_buffer"]),
        learner=StandinLearner(desc["normalizers"], desc["noise_rng_shape"]),
        worker=StandinWorker(n_train),
        evaluator=StandinWorker(n_eval),
    )


def state_examples(workdir: Path, env_id: str) -> dict[str, Any]:
    """What the checkpoint worker needs: a valid checkpoint's state and the description of the
    run's parts, made by a child process so that this one never imports TensorFlow."""
    command = [sys.executable, "-m", "benchmarks.fuzz", "--save-checkpoint", str(workdir)]
    subprocess.run(command + ["--env", env_id], check=True, stdout=subprocess.DEVNULL)
    desc = json.loads((workdir / PARTS).read_text())
    folder = Path(desc["folder"])
    arrays, meta = read_checkpoint_state(folder)
    return {
        "folder": folder,
        "parts": desc,
        "checkpoint": {
            "arrays": {**arrays, "meta": np.array(json.dumps(meta))},
            "meta": meta,
            "bytes": (folder / "state-rank0.npz").read_bytes(),
            "files": {},  # no TF files to mangle: they are not read here
        },
    }
