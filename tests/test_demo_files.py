"""Demo files: round trip, and a one-line error for every kind of bad input."""

import json
import pickle

import numpy as np
import pytest

from herdemos.demos import DemoData, load_demos
from herdemos.env_info import EnvInfo
from herdemos.util import HerdemosError

INFO = EnvInfo("PointGoal-v0", dim_o=3, dim_g=2, dim_u=2, horizon=4, max_u=1.0)


def demo_data(n=5, horizon=4, seed=0) -> DemoData:
    rng = np.random.default_rng(seed)
    episodes = {
        "o": rng.normal(size=(n, horizon + 1, 3)),
        "ag": rng.normal(size=(n, horizon + 1, 2)),
        "g": rng.normal(size=(n, horizon, 2)),
        "u": rng.uniform(-1, 1, (n, horizon, 2)),
        "info_is_success": np.ones((n, horizon, 1)),
    }
    sim_state = rng.normal(size=(n, horizon + 1, 7))
    return DemoData(episodes, sim_state, {"env_id": "PointGoal-v0", "seed": seed})


def write(tmp_path, data, name="demos.npz"):
    path = tmp_path / name
    data.save(path)
    return path


def test_round_trip_with_allow_pickle_false(tmp_path):
    data = demo_data()
    path = write(tmp_path, data)
    with np.load(path, allow_pickle=False) as raw:
        assert json.loads(str(raw["metadata"]))["env_id"] == "PointGoal-v0"
    loaded = load_demos(path, INFO, num_demo=3)
    assert loaded.n_episodes == 3
    np.testing.assert_allclose(loaded.episodes["u"], data.episodes["u"][:3], rtol=1e-6)
    np.testing.assert_allclose(loaded.sim_state, data.sim_state[:3])
    assert loaded.metadata["seed"] == 0


def test_actions_beyond_the_env_bound_are_clipped_to_what_the_env_executed(tmp_path):
    data = demo_data()
    data.episodes["u"][0, 0] = [3.0, -2.5]
    loaded = load_demos(write(tmp_path, data), INFO)
    np.testing.assert_array_equal(loaded.episodes["u"][0, 0], [1.0, -1.0])
    np.testing.assert_allclose(loaded.episodes["u"][1:], data.episodes["u"][1:], rtol=1e-6)


def test_loading_is_eager_not_lazy(tmp_path):
    path = write(tmp_path, demo_data())
    loaded = load_demos(path, INFO)
    path.unlink()  # the file is gone; the data must still be there
    assert isinstance(loaded.episodes["o"], np.ndarray) and loaded.episodes["o"].sum() != 0


def assert_one_line_error(path, message, info=INFO, num_demo=None):
    with pytest.raises(HerdemosError, match=message) as err:
        load_demos(path, info, num_demo)
    text = str(err.value)
    assert "\n" not in text and str(path.name) in text


def test_not_an_npz(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("hello, I am text")
    assert_one_line_error(path, "not an .npz file")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.npz"
    path.write_bytes(b"")
    assert_one_line_error(path, "empty file")


def test_missing_file(tmp_path):
    assert_one_line_error(tmp_path / "nope.npz", "no such demo file")


def test_truncated_file(tmp_path):
    path = write(tmp_path, demo_data(n=20))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert_one_line_error(path, "truncated|corrupted|not a")


def test_missing_keys(tmp_path):
    data = demo_data()
    path = tmp_path / "nokeys.npz"
    np.savez(path, o=data.episodes["o"], g=data.episodes["g"])
    assert_one_line_error(path, r"missing keys \['ag', 'u', 'info_is_success'\]")


def test_dims_that_do_not_match_the_env(tmp_path):
    path = write(tmp_path, demo_data())
    wrong = EnvInfo("Other-v0", dim_o=3, dim_g=2, dim_u=4, horizon=4, max_u=1.0)
    assert_one_line_error(path, "'u' has dim 2, Other-v0 needs 4", info=wrong)


def test_horizon_that_does_not_match(tmp_path):
    path = write(tmp_path, demo_data(horizon=6))
    assert_one_line_error(path, "T=6, PointGoal-v0 has T=4")


def test_inconsistent_shapes_inside_the_file(tmp_path):
    data = demo_data()
    data.episodes["g"] = data.episodes["g"][:, :3]
    assert_one_line_error(write(tmp_path, data), "'g' has shape")


def test_fewer_episodes_than_num_demo(tmp_path):
    path = write(tmp_path, demo_data(n=5))
    assert_one_line_error(path, "holds 5 episodes, fewer than --num_demo 100", num_demo=100)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_values(tmp_path, bad):
    data = demo_data()
    data.episodes["o"][2, 1, 0] = bad
    assert_one_line_error(write(tmp_path, data), "'o' contains NaN or Inf")


def test_legacy_pickled_format_is_refused_with_a_pointer_to_the_converter(tmp_path):
    path = tmp_path / "data_fetch_random_100.npz"
    obs = np.empty(1, dtype=object)
    obs[0] = [{"observation": np.zeros(3)}]
    np.savez(path, acs=np.zeros((1, 4, 2)), obs=obs, info=obs)
    assert_one_line_error(path, "convert_legacy_demos")


def test_object_array_never_unpickled(tmp_path):
    class Boom:
        def __reduce__(self):
            raise AssertionError("unpickling ran")

    path = tmp_path / "evil.npz"
    with open(path, "wb") as f:
        np.savez(f, u=np.array([pickle.dumps(1)], dtype=object))
    assert_one_line_error(path, "pickled objects")


def test_success_flags_must_be_one_column(tmp_path):
    data = demo_data()
    data.episodes["info_is_success"] = np.ones((5, 4, 2))
    assert_one_line_error(write(tmp_path, data), "'info_is_success' must have last dimension 1")


def test_a_non_numeric_sim_state_is_refused(tmp_path):
    data = demo_data()
    path = tmp_path / "strings.npz"
    np.savez(path, **data.episodes, sim_state=np.full(data.sim_state.shape, "x"))
    assert_one_line_error(path, "'sim_state' must be numeric")


def test_a_run_without_demo_file_gets_the_demos_its_command_supplies(tmp_path):
    """The core never generates demos: without --demo_file, load_run_demos asks the loader the
    command passed (train.py passes data_generation's cached scripted demos)."""
    from herdemos.config import Config, with_overrides
    from herdemos.demos import load_run_demos

    asked = []

    def default_demos(env_id, num_demo, info, log):
        asked.append((env_id, num_demo, info))
        return demo_data(num_demo)

    config = with_overrides(Config(), {"num_demo": 3})
    data = load_run_demos(config, INFO, print, default_demos)
    assert asked == [("PointGoal-v0", 3, INFO)] and data.n_episodes == 3
    with_file = with_overrides(config, {"demo_file": str(write(tmp_path, demo_data()))})
    assert load_run_demos(with_file, INFO, lambda line: None, default_demos).n_episodes == 3
    assert len(asked) == 1  # a demo file is read, not the default demos
    assert load_run_demos(with_overrides(config, {"num_demo": 0}), INFO, print, None) is None


def test_core_modules_never_import_data_generation_or_benchmarks():
    """Imports point one way: data_generation/ and benchmarks/ build on the core, never back."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for path in sorted(root.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(
                    ("herdemos.data_generation", "herdemos.benchmarks", "benchmarks")
                ), f"{path.name} imports {name}"
