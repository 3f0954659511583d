"""train.py's flags are declared once: the click options, --help, TrainFlags and docs/flags.md
all come from experiment/flags.py's table and the config fields' declarations."""

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner

from herdemos.config import SECTIONS, Config
from herdemos.experiment import train
from herdemos.experiment.flags import FLAGS, SETTING_FLAGS, TrainFlags
from herdemos.experiment.flags_doc import flags_markdown
from herdemos.experiment.resolve import resolve_config

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_flags_page_is_the_generated_one():
    """Regenerate with: python -m herdemos.experiment.flags_doc > docs/flags.md"""
    assert (ROOT / "docs" / "flags.md").read_text() == flags_markdown()


def test_the_flags_page_lists_every_flag_and_every_config_field():
    page = flags_markdown()
    for flag in FLAGS:
        assert f"| `--{flag.name}` |" in page
    for section in SECTIONS:
        for f in dataclasses.fields(getattr(Config(), section)):
            assert f"| `{f.name}` |" in page


def test_train_py_has_exactly_the_declared_options_in_the_declared_order():
    params = [p for p in train.main.params if p.name != "help"]
    assert [p.opts[0] for p in params] == [f"--{flag.name}" for flag in FLAGS]
    assert [p.name for p in params] == [flag.param for flag in FLAGS]


def test_every_config_flag_of_train_py_sets_the_config_field_it_names(monkeypatch):
    """Each flag goes from the command line through TrainFlags into the field its record
    names, 0/1 flags becoming bools."""
    seen = {}
    monkeypatch.setattr(train, "run", lambda *args: seen.update(flags=args[4]) or 0)
    argv = ["--env", "FetchPush-v4", "--n_epochs", "7", "--seed", "11"]
    argv += ["--policy_save_interval", "3", "--num_cpu", "1", "--replay_strategy", "none"]
    argv += ["--clip_return", "0", "--bc_loss", "1", "--q_filter", "1", "--num_demo", "5"]
    argv += ["--demo_file", "demos.npz", "--demo_reset_prob", "0.25", "--demo_mirror", "1"]
    argv += ["--env_kwargs", '{"reward_type": "dense"}', "--video_interval", "2"]
    result = CliRunner().invoke(train.main, argv)
    assert result.exit_code == 0, result.output
    flags = seen["flags"]
    config = resolve_config(flags, ())
    expected = {
        "train.env": "FetchPush-v4",
        "train.n_epochs": 7,
        "train.seed": 11,
        "train.policy_save_interval": 3,
        "train.num_cpu": 1,
        "her.replay_strategy": "none",
        "ddpg.clip_return": False,
        "ddpg.bc_loss": True,
        "ddpg.q_filter": True,
        "demo.num_demo": 5,
        "demo.demo_file": "demos.npz",
        "demo.demo_reset_prob": 0.25,
        "demo.demo_mirror": True,
        "train.env_kwargs": '{"reward_type": "dense"}',
        "train.video_interval": 2,
    }
    assert flags.overrides() == expected
    assert set(expected) == {f.config for f in FLAGS if f.config}  # every config flag tried
    for key, value in expected.items():
        section, name = key.split(".")
        assert getattr(getattr(config, section), name) == value, key


def test_flags_not_given_are_absent_so_defaults_never_hide_a_choice(monkeypatch):
    seen = {}
    monkeypatch.setattr(train, "run", lambda *args: seen.update(args=args) or 0)
    result = CliRunner().invoke(train.main, [])
    assert result.exit_code == 0, result.output
    logdir, resume, set_items, quiet, flags, stop_file = seen["args"]
    assert (logdir, resume, set_items, quiet, stop_file) == (None, None, (), False, None)
    assert flags == TrainFlags() and flags.overrides() == {}


def test_train_flags_refuse_a_name_that_is_not_a_config_choosing_flag():
    with pytest.raises(TypeError, match="logdir"):
        TrainFlags(logdir="runs/x")
    assert "preset" in SETTING_FLAGS


def test_help_shows_each_flags_default_from_the_config_declaration():
    result = CliRunner().invoke(train.main, ["--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())  # as read, whatever the wrapping
    assert "Epochs to train (may be raised on --resume). [default: 100; FetchReach 10]" in text
    assert "Add the behaviour-cloning loss on demo rows. [default: 0]" in text
