"""Fuzzed inputs for every loader: a clean load or a one-line error, never a traceback or code.

Each test draws random, truncated, bit-flipped and wrong-typed files with hypothesis. The number
of inputs tried is printed (run ``pytest -s tests/test_fuzz_loaders.py`` to see it).
"""

import io
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from herdemos import load_policy
from herdemos.config import Config, with_overrides
from herdemos.demos import DemoData, load_demos
from herdemos.env_info import EnvInfo
from herdemos.policy import Policy
from herdemos.trainer import Trainer
from herdemos.util import HerdemosError

from point_env import register

INFO = EnvInfo("PointGoal-v0", dim_o=2, dim_g=2, dim_u=2, horizon=10, max_u=1.0)
FUZZ = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
TRIED: dict[str, int] = {}


def valid_demo_bytes() -> bytes:
    rng = np.random.default_rng(0)
    n, t = 3, 10
    episodes = {
        "o": rng.normal(size=(n, t + 1, 2)),
        "ag": rng.normal(size=(n, t + 1, 2)),
        "g": rng.normal(size=(n, t, 2)),
        "u": rng.uniform(-1, 1, (n, t, 2)),
        "info_is_success": np.zeros((n, t, 1)),
    }
    buf = io.BytesIO()
    data = DemoData(episodes, rng.normal(size=(n, t + 1, 5)), {"env_id": "PointGoal-v0"})
    arrays = {k: v.astype(np.float32) for k, v in data.episodes.items()}
    length = np.array([t, 4, 7])  # episodes of different lengths: their checks are fuzzed too
    np.savez(
        buf, **arrays, length=length, sim_state=data.sim_state, metadata=np.array('{"env_id": "x"}')
    )
    return buf.getvalue()


def valid_policy_bytes() -> bytes:
    rng = np.random.default_rng(0)

    def layer(n_in, n_out):
        return [rng.normal(size=(n_in, n_out)).astype(np.float32), np.zeros(n_out, np.float32)]

    zeros, ones = np.zeros(2), np.ones(2)
    actor, critic = layer(4, 8) + layer(8, 2), layer(6, 8) + layer(8, 1)
    policy = Policy(actor, critic, zeros, ones, zeros, ones, 200.0, 5.0, 1.0, {"env_id": "Point"})
    return pickle.dumps(policy.to_dict(), protocol=4)


def mutations(valid: bytes):
    """Random bytes, truncations, bit flips, and valid pickles of the wrong type."""
    flips = st.lists(
        st.tuples(st.integers(0, len(valid) - 1), st.integers(0, 7)), min_size=1, max_size=8
    ).map(lambda fl: flip(valid, fl))
    truncations = st.integers(0, len(valid) - 1).map(lambda n: valid[:n])
    wrong_types = st.sampled_from([{"a": 1}, [1, 2], "text", 3.5, None, {"format": 1}]).map(
        lambda obj: pickle.dumps(obj)
    )
    return st.one_of(st.binary(max_size=2048), truncations, flips, wrong_types)


def flip(data: bytes, positions) -> bytes:
    out = bytearray(data)
    for index, bit in positions:
        out[index] ^= 1 << bit
    return bytes(out)


def check_outcome(call, path: Path) -> None:
    try:
        call()
    except HerdemosError as e:
        message = str(e)
        assert message and "\n" not in message, repr(message)
        assert path.name in message or "checkpoint" in message


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    print("\nfuzzed inputs tried:", TRIED)


@FUZZ
@given(data=mutations(valid_demo_bytes()))
def test_fuzz_demo_loader(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("demo") / "demos.npz"
    path.write_bytes(data)
    TRIED["demo_loader"] = TRIED.get("demo_loader", 0) + 1
    check_outcome(lambda: load_demos(path, INFO, num_demo=2), path)


@FUZZ
@given(data=mutations(valid_policy_bytes()))
def test_fuzz_policy_loader(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("policy") / "policy.pkl"
    path.write_bytes(data)
    TRIED["policy_loader"] = TRIED.get("policy_loader", 0) + 1
    check_outcome(lambda: load_policy(path), path)


@pytest.fixture(scope="module")
def checkpointed(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("ckpt")
    config = with_overrides(
        Config(),
        {
            "env": register(),
            "n_cycles": 1,
            "n_batches": 1,
            "batch_size": 16,
            "hidden": 8,
            "n_test_rollouts": 1,
        },
    )
    trainer = Trainer.from_config(config, logdir, demos=None, log=lambda line: None)
    trainer.run_cycle()
    return trainer, trainer.save_checkpoint()


@FUZZ
@given(data=st.data())
def test_fuzz_checkpoint_loader(checkpointed, tmp_path_factory, data):
    trainer, folder = checkpointed
    target_name = data.draw(st.sampled_from(["state-rank0.npz", "learner.index", "learner.data"]))
    copy = tmp_path_factory.mktemp("fuzzed") / folder.name
    shutil.copytree(folder, copy)
    target = next(p for p in copy.iterdir() if p.name.startswith(target_name))
    target.write_bytes(data.draw(mutations(target.read_bytes())))
    TRIED["checkpoint_loader"] = TRIED.get("checkpoint_loader", 0) + 1
    check_outcome(lambda: trainer.restore_checkpoint(copy), copy)
