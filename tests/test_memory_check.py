"""Sizes that cannot fit in memory are refused up front, in one line naming the field."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_asserts import python_path

from herdemos.config import Config, with_overrides
from herdemos.env_info import EnvInfo
from herdemos.memory_check import check_memory, human_bytes, memory_needs, network_parameters
from herdemos.util import HerdemosError

from point_env import register

ROOT = Path(__file__).resolve().parents[1]
FETCH = EnvInfo("FetchPickAndPlace-v4", dim_o=25, dim_g=3, dim_u=4, horizon=50, max_u=1.0)
GIB = 1 << 30


def test_human_bytes():
    assert human_bytes(512) == "512 B"
    assert human_bytes(3 * GIB // 2) == "1.5 GiB"
    assert human_bytes(4 * 1024**5) == "4 PiB"


def test_the_default_run_fits_in_a_few_gigabytes():
    check_memory(Config(), FETCH, available=2 * GIB)
    needs = {what: size for _, what, size in memory_needs(Config(), FETCH)}
    # 20,000 episodes of 51 * 28 + 50 * 8 floats
    assert needs["the replay buffer"] == 20_000 * (51 * 28 + 50 * 8) * 4


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"buffer_size": 100_000_000_000_000},
            "buffer_size=100000000000000: the replay buffer would need 13 PiB, more than "
            "this machine's 16 GiB of memory",
        ),
        (
            {"hidden": 1_000_000},
            "hidden=1000000, layers=3: the networks and their optimiser state would need 72.8 TiB",
        ),
        (
            {"batch_size": 10**9},
            "batch_size=1000000000, hidden=256: one update's batch and activations would need "
            "11.4 TiB",
        ),
        (
            {"buffer_size": 20_000_000, "num_cpu": 8},  # each rank holds its own buffer
            "buffer_size=20000000: the replay buffer would need 21.8 GiB on 8 ranks",
        ),
    ],
)
def test_a_size_that_cannot_fit_is_one_line_naming_the_field(overrides, expected):
    config = with_overrides(Config(), overrides)
    with pytest.raises(HerdemosError) as error:
        check_memory(config, FETCH, available=16 * GIB)
    assert str(error.value).startswith(expected), str(error.value)


def test_the_parameter_count_is_the_learners(tmp_path):
    from herdemos.trainer import Trainer

    for twin in (False, True):
        config = with_overrides(
            Config(),
            {"env": register(), "hidden": 12, "layers": 2, "twin_q": twin, "n_test_rollouts": 1},
        )
        trainer = Trainer.from_config(config, tmp_path, demos=None, log=lambda line: None)
        main = trainer.learner.main
        critics = [main.critic, main.critic2] if twin else [main.critic]
        counted = sum(int(v.numpy().size) for m in [main.actor, *critics] for v in m.variables)
        assert network_parameters(config, trainer.info) == counted


def test_train_refuses_an_impossible_buffer_before_it_allocates(tmp_path):
    env = {**os.environ, "PYTHONPATH": python_path()}
    result = subprocess.run(
        [sys.executable, "experiment/train.py", "--env", "point_env:PointGoal-v0",
         "--set", "buffer_size=100000000000000", "--logdir", str(tmp_path / "run")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: buffer_size=100000000000000: the replay buffer would need")
    assert not (tmp_path / "run").exists()
