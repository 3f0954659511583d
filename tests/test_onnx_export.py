"""export.py --format onnx: the ONNX actor acts as the policy file does, clipping included."""

import sys

import numpy as np
import pytest
from cli_asserts import assert_one_line_error
from click.testing import CliRunner
from test_checkpoint_restore import small_trainer

from herdemos.experiment.export import main as export_cli
from herdemos.policy import load_policy

ort = pytest.importorskip("onnxruntime", reason="pip install 'herdemos[onnx]'")


@pytest.fixture(scope="module")
def trained_policy_file(tmp_path_factory):
    """A policy after one epoch on the point env: trained weights and real normaliser
    statistics (non-zero means, stds other than 1)."""
    folder = tmp_path_factory.mktemp("run")
    trainer = small_trainer(folder)
    trainer.run_cycle()
    trainer.run_cycle()
    trainer.finish_epoch()
    path = folder / "policy.pkl"
    trainer.policy(0.0).save(path)
    return path


def export(*args: str):
    return CliRunner().invoke(export_cli, [*map(str, args)])


def test_onnx_actions_match_load_policy_act_within_1e_5(trained_policy_file, tmp_path):
    out = tmp_path / "actor.onnx"
    result = export(trained_policy_file, "--format", "onnx", "--out", out)
    assert result.exit_code == 0, result.output
    policy = load_policy(trained_policy_file)
    assert np.any(policy.o_std != 1) and np.any(policy.o_mean != 0)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    n = 2000
    # Within the normaliser's range, far outside it (norm_clip acts), and beyond clip_obs.
    scale = np.repeat([1.0, 10.0, 1000.0], [n - 200, 100, 100])[:, None]
    o = rng.normal(0, 1, (n, policy.o_mean.size)) * scale
    g = rng.normal(0, 1, (n, policy.g_mean.size)) * scale
    feed = {"observation": o.astype(np.float32), "desired_goal": g.astype(np.float32)}
    (onnx_actions,) = session.run(["action"], feed)
    actions = policy.act({"observation": o, "desired_goal": g})
    assert onnx_actions.shape == actions.shape and onnx_actions.dtype == np.float32
    np.testing.assert_allclose(onnx_actions, actions, rtol=0, atol=1e-5)
    assert np.abs(onnx_actions).max() <= policy.max_u
    assert len(np.unique(onnx_actions.round(3), axis=0)) > n // 2  # not a constant function
    one = {"observation": o[0], "desired_goal": g[0]}  # a single observation, as act takes it
    (one_action,) = session.run(["action"], {k: v[None].astype(np.float32) for k, v in one.items()})
    np.testing.assert_allclose(one_action[0], policy.act(one), rtol=0, atol=1e-5)


def test_without_onnx_installed_the_export_is_one_line_naming_the_extra(
    trained_policy_file, tmp_path, monkeypatch
):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    out = tmp_path / "actor.onnx"
    result = export(trained_policy_file, "--format", "onnx", "--out", out)
    assert_one_line_error(result, "--format onnx", "pip install 'herdemos[onnx]'")
    assert not out.exists()


def test_onnx_export_refuses_other_file_names_and_existing_files(trained_policy_file, tmp_path):
    folder = tmp_path / "actor_savedmodel"
    assert_one_line_error(
        export(trained_policy_file, "--format", "onnx", "--out", folder), "use a .onnx file name"
    )
    existing = tmp_path / "old.onnx"
    existing.write_bytes(b"keep")
    result = export(trained_policy_file, "--format", "onnx", "--out", existing)
    assert_one_line_error(result, "already exists")
    assert existing.read_bytes() == b"keep"
