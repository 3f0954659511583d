"""Writing and restoring checkpoints under damage: a full disk during TF's save is one line,
and a crafted checkpoint is refused before "resuming" is printed, falling back to the older."""

import math
from pathlib import Path

import numpy as np
import pytest

from herdemos.bounded_files import read_npz
from herdemos.checkpoint import list_checkpoints, read_checkpoint_state
from herdemos.config import Config, with_overrides
from herdemos.experiment.train import restore_latest
from herdemos.trainer import Trainer
from herdemos.util import HerdemosError

from point_env import register

SMALL = {"n_cycles": 2, "n_batches": 1, "batch_size": 16, "hidden": 8, "n_test_rollouts": 1}


def small_trainer(logdir: Path) -> Trainer:
    config = with_overrides(Config(), {"env": register(), **SMALL})
    return Trainer.from_config(config, logdir, demos=None, log=lambda line: None)


@pytest.fixture(scope="module")
def two_checkpoints(tmp_path_factory):
    """A run folder with checkpoints after cycle 1 and after epoch 1, and a fresh trainer."""
    logdir = tmp_path_factory.mktemp("run")
    trainer = small_trainer(logdir)
    trainer.run_cycle()
    older = trainer.save_checkpoint()
    trainer.run_cycle()
    trainer.finish_epoch()
    newer = trainer.save_checkpoint()
    return logdir, older, newer


def test_a_full_disk_while_tf_writes_the_learner_is_one_line_and_keeps_the_old_one(
    tmp_path, monkeypatch
):
    import tensorflow as tf

    trainer = small_trainer(tmp_path)
    trainer.run_cycle()
    good = trainer.save_checkpoint()

    def full_disk(self, prefix, options=None):
        raise tf.errors.ResourceExhaustedError(
            None, None, "No space left on device [Op:SaveV2]\n\tmany more lines"
        )

    monkeypatch.setattr(tf.train.Checkpoint, "write", full_disk)
    trainer.run_cycle()
    with pytest.raises(HerdemosError) as error:
        trainer.save_checkpoint()
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'checkpoint-000000-002'}: cannot write checkpoint")
    assert "No space left on device [Op:SaveV2]" in message and "many more" not in message
    assert f"--resume {tmp_path}" in message
    assert list_checkpoints(tmp_path) == [good]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def rewrite_state(folder: Path, arrays=None, meta=None) -> None:
    import json

    payload = dict(arrays)
    payload["meta"] = np.array(json.dumps(meta))
    with open(folder / "state-rank0.npz", "wb") as f:
        np.savez(f, **payload)


def edit_meta(path: str, value):
    def edit(arrays, meta):
        *parents, last = path.split(".")
        node = meta
        for key in parents:
            node = node[key]
        node[last] = value

    return edit


def edit_array(key: str, value):
    def edit(arrays, meta):
        arrays[key] = value

    return edit


CRAFTED = {
    "seeds-as-text": (edit_meta("worker_seeds", ["a", "b"]), "worker_seeds holds 'a'"),
    "epoch-as-text": (edit_meta("state.epoch", "one"), "state.epoch = 'one'"),
    "epoch-not-its-name": (edit_meta("state.epoch", 7), "its name says (1, 0)"),
    "nan-steps": (edit_meta("state.total_env_steps", math.inf), "total_env_steps"),
    "cycle-past-epoch": (edit_meta("epoch_progress.cycle", 9), "epoch and cycle"),
    "unknown-generator": (edit_meta("envs", [{"bit_generator": "seed"}] * 2), "envs is not"),
    "broken-generator": (edit_meta("rng.state", {"state": "x"}), "rng:"),
    "g-stats-length": (edit_array("g_stats/mean", np.zeros(5, np.float32)), "g_stats: normaliser"),
    "zero-std": (edit_array("o_stats/std", np.zeros(2, np.float32)), "std must be > 0"),
    "buffer-bookkeeping": (
        edit_array("buffer/meta", np.array([4, 10**9, 0])),
        "buffer bookkeeping",
    ),
    "buffer-shape": (edit_array("buffer/storage/u", np.zeros((4, 9, 2), np.float32)), "'u'"),
}


@pytest.mark.parametrize("case", CRAFTED, ids=list(CRAFTED))
def test_a_crafted_checkpoint_is_refused_and_the_older_one_resumed(
    two_checkpoints, tmp_path, capsys, case
):
    import shutil

    logdir, older, newer = two_checkpoints
    run = tmp_path / "run"
    shutil.copytree(logdir, run)
    edit, expected = CRAFTED[case]
    arrays, meta = read_checkpoint_state(run / newer.name)
    edit(arrays, meta)
    rewrite_state(run / newer.name, arrays, meta)

    trainer = small_trainer(tmp_path / "other")
    restored = restore_latest(trainer, list_checkpoints(run))
    assert restored == run / older.name
    assert (trainer.state.epoch, trainer.epoch_progress.cycle) == (0, 1)
    warning = capsys.readouterr().err.strip().splitlines()
    assert len(warning) == 1 and expected in warning[0], warning
    assert warning[0].startswith(f"warning: {run / newer.name}: cannot resume")
    assert trainer.buffer.size == 2 and trainer.learner.g_stats.mean.shape == (2,)


def test_the_genuine_checkpoints_restore_and_read_back_with_the_bounded_reader(two_checkpoints):
    logdir, older, newer = two_checkpoints
    arrays = read_npz(newer / "state-rank0.npz")
    with np.load(newer / "state-rank0.npz") as npz:
        assert sorted(npz.files) == sorted(arrays)
        for key in npz.files:
            np.testing.assert_array_equal(npz[key], arrays[key])
    trainer = small_trainer(logdir.parent / "fresh")
    assert restore_latest(trainer, list_checkpoints(logdir)) == newer
    assert trainer.state.epoch == 1


def test_deeply_nested_checkpoint_metadata_is_one_line(two_checkpoints, tmp_path):
    import shutil

    logdir, older, newer = two_checkpoints
    copy = tmp_path / newer.name
    shutil.copytree(newer, copy)
    arrays = read_npz(copy / "state-rank0.npz")
    arrays["meta"] = np.array("[" * 100_000 + "]" * 100_000)
    with open(copy / "state-rank0.npz", "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(HerdemosError, match="'meta' is not valid JSON .*nested deeper"):
        small_trainer(tmp_path / "other").restore_checkpoint(copy)
