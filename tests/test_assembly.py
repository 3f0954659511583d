"""Assembly: a run's parts are built from its config alone, and resets to demo states are
checked against the env before any training."""

import numpy as np
import pytest

from herdemos.assembly import assemble
from herdemos.config import Config, with_overrides
from herdemos.demos import DemoData
from herdemos.util import HerdemosError

from point_env import make_episodes, register

SMALL = {"n_cycles": 2, "n_batches": 1, "batch_size": 32, "hidden": 16, "n_test_rollouts": 3}


def test_the_parts_hold_the_demos_and_their_statistics_and_write_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    n = 4
    episodes = make_episodes(n, 10, np.random.default_rng(0))
    config = with_overrides(
        Config(), {"env": register(), **SMALL, "num_demo": n, "demo_batch_size": 8}
    )
    parts = assemble(config, DemoData(episodes), log=lambda line: None)
    assert (len(parts.envs), len(parts.eval_envs)) == (2, 3)
    assert parts.buffer.size == 0 and parts.demo_buffer.size == n
    np.testing.assert_array_equal(parts.demo_buffer.filled()["ag"], episodes["ag"])
    # the observation normaliser has seen the demo rows before any rollout
    assert parts.learner.o_stats.mean[1] == pytest.approx(np.mean(100 * np.arange(n)), rel=0.3)
    assert (parts.batch_size, parts.demo_batch_size) == (32, 8)
    assert parts.worker.demo_starts is None and parts.evaluator.demo_starts is None
    assert list(tmp_path.iterdir()) == []


def test_without_demos_there_is_no_demo_buffer():
    config = with_overrides(Config(), {"env": register(), **SMALL})
    parts = assemble(config, None, log=lambda line: None)
    assert parts.demo_buffer is None and parts.worker.demo_reset_prob == 0.0


def test_resets_to_demo_states_need_demos_with_simulator_states():
    episodes = make_episodes(3, 10, np.random.default_rng(0))
    config = with_overrides(
        Config(), {"env": register(), **SMALL, "num_demo": 3, "demo_reset_prob": 0.5}
    )
    with pytest.raises(HerdemosError, match="--demo_reset_prob: .*not a MuJoCo env"):
        assemble(config, DemoData(episodes), log=lambda line: None)


@pytest.mark.parametrize("right_size", [True, False])
def test_resets_to_demo_states_start_from_the_env_s_own_simulator_states(right_size):
    from herdemos.environment import make_env
    from herdemos.sim_state import sim_state_size

    env_id, n, horizon = "FetchReach-v4", 2, 50
    size = sim_state_size(make_env(env_id)) if right_size else 3
    rng = np.random.default_rng(0)
    episodes = {
        "o": rng.normal(size=(n, horizon + 1, 10)),
        "ag": rng.normal(size=(n, horizon + 1, 3)),
        "g": rng.normal(size=(n, horizon, 3)),
        "u": rng.uniform(-1, 1, (n, horizon, 4)),
        "info_is_success": np.ones((n, horizon, 1)),
    }
    demos = DemoData(
        {k: v.astype(np.float32) for k, v in episodes.items()},
        rng.normal(size=(n, horizon + 1, size)),
    )
    small = {**SMALL, "n_test_rollouts": 1}
    config = with_overrides(
        Config(), {"env": env_id, **small, "num_demo": n, "demo_reset_prob": 0.5}
    )
    if not right_size:
        with pytest.raises(HerdemosError, match=f"have size 3, {env_id} needs"):
            assemble(config, demos, log=lambda line: None)
        return
    parts = assemble(config, demos, log=lambda line: None)
    assert parts.worker.demo_reset_prob == 0.5
    np.testing.assert_array_equal(parts.worker.demo_starts.sim_state, demos.sim_state)
    assert parts.evaluator.demo_starts is None  # evaluation always starts from normal resets
