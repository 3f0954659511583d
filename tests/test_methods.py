"""--method and the seed's switches: one place says which method a config describes, each
method equals the seed's flags for it, and contradictions are one-line errors."""

import re
import shlex
from pathlib import Path

import pytest
from cli_asserts import assert_one_line_error
from click.testing import CliRunner

from herdemos.config import Config, with_overrides
from herdemos.experiment import train
from herdemos.experiment.flags import TrainFlags
from herdemos.experiment.resolve import config_from_command_line, resolve_config, resume_config
from herdemos.methods import METHODS, method_label, method_of
from herdemos.util import HerdemosError

ROOT = Path(__file__).resolve().parents[1]


def resolved(argv: list[str]) -> Config:
    """The config train.py resolves from these command-line flags."""
    seen = {}
    original = train.run

    def capture(logdir, resume, set_items, quiet, flags, stop_file=None):
        seen["config"] = resolve_config(flags, set_items)
        return 0

    train.run = capture
    try:
        result = CliRunner().invoke(train.main, argv)
    finally:
        train.run = original
    assert result.exit_code == 0, result.output
    return seen["config"]


def method_table() -> list[tuple[str, str]]:
    """``(method, the seed's flags)`` rows of docs/training.md's table of methods."""
    text = (ROOT / "docs" / "training.md").read_text()
    return re.findall(r"^\| `([a-z-]+)` \| `([^`]*)` \|", text, re.M)


def test_the_docs_table_lists_every_method():
    assert [name for name, _ in method_table()] == list(METHODS)


@pytest.mark.parametrize(("name", "seed_flags"), method_table())
def test_each_method_is_exactly_the_seeds_flags_the_docs_give_for_it(name, seed_flags):
    demos = ["--num_demo", "100"] if METHODS[name].demos else []
    by_method = resolved(["--method", name, *demos])
    assert by_method == resolved(shlex.split(seed_flags))
    assert method_of(by_method).name == name


def test_method_agrees_with_a_repeated_switch_and_keeps_other_settings():
    config = resolved(["--method", "bc-qfilter", "--num_demo", "100", "--bc_loss", "1"])
    assert config.ddpg.bc_loss and config.ddpg.q_filter and not config.ddpg.bc_only
    stacking = resolved(["--method", "bc", "--num_demo", "5", "--preset", "stacking"])
    assert stacking.ddpg.bc_only and stacking.ddpg.polyak == 0.6


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--method", "bc-qfilter", "--num_demo", "5", "--q_filter", "0"],
            "--method bc-qfilter sets q_filter=1, but --q_filter 0 contradicts it",
        ),
        (
            ["--method", "bc-rl", "--num_demo", "5", "--set", "bc_only=1"],
            "--method bc-rl sets bc_only=0, but --set bc_only=1 contradicts it",
        ),
        (["--method", "bc-qfilter"], "--method bc-qfilter needs demonstrations"),
        (["--method", "her", "--num_demo", "5"], "--method her uses no demonstrations"),
        (["--q_filter", "1", "--num_demo", "5"], "--q_filter 1 needs --bc_loss 1"),
        (["--bc_loss", "1"], "--bc_loss 1 needs demonstrations"),
        (
            ["--method", "bc-rl", "--num_demo", "5", "--set", "q_filter_slack=td_error"],
            "--set q_filter_slack=td_error needs --q_filter 1",
        ),
        (
            ["--method", "demo-replay", "--num_demo", "5", "--set", "rl_scale=mean_abs_q"],
            "--set rl_scale=mean_abs_q needs --bc_loss 1",
        ),
        (["--set", "bc_only=1"], "bc_only needs demonstrations"),
        (["--num_demo", "5", "--bc_loss", "1", "--set", "bc_only=1"], "bc_only replaces"),
    ],
)
def test_contradictions_and_switches_that_make_no_method_are_one_line_errors(argv, message):
    result = CliRunner().invoke(train.main, argv)
    assert_one_line_error(result, message)


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--method", "bc", "--num_demo", "5", "--preset", "stacking", "--set", "polyak=0.7"],
        ["--env", "FetchReach-v4", "--num_demo", "5", "--bc_loss", "1", "--demo_mirror", "1"],
    ],
)
def test_a_command_line_read_as_data_resolves_to_the_config_train_py_trains_with(argv):
    assert config_from_command_line(argv) == resolved(argv)


def test_a_command_line_read_as_data_refuses_what_train_py_refuses_in_one_line():
    with pytest.raises(HerdemosError, match=r"^--q_filter 1 needs --bc_loss 1"):
        config_from_command_line(["--q_filter", "1", "--num_demo", "5"])
    with pytest.raises(HerdemosError, match=r"^Invalid value for '--bc_loss': 2 is not in"):
        config_from_command_line(["--bc_loss", "2"])
    with pytest.raises(HerdemosError, match=r"^No such option '--bc_los'. Did you mean '--bc_l"):
        config_from_command_line(["--bc_los", "1"])


@pytest.mark.parametrize("bc_loss", [False, True])
@pytest.mark.parametrize("q_filter", [False, True])
@pytest.mark.parametrize("bc_only", [False, True])
@pytest.mark.parametrize("num_demo", [0, 100])
def test_every_switch_combination_is_one_method_or_refused(bc_loss, q_filter, bc_only, num_demo):
    switches = {"bc_loss": bc_loss, "q_filter": q_filter, "bc_only": bc_only}
    config = with_overrides(Config(), {**switches, "num_demo": num_demo})
    matching = [
        m
        for m in METHODS.values()
        if m.demos == (num_demo > 0) and all(getattr(m, k) == v for k, v in switches.items())
    ]
    if matching:
        assert method_of(config) == matching[0]
    else:
        with pytest.raises(HerdemosError):
            method_of(config)


def test_resume_refuses_another_method_and_accepts_the_same(tmp_path):
    flags = TrainFlags(bc_loss=True, q_filter=True, num_demo=5)
    (tmp_path / "params.json").write_text(resolve_config(flags, ()).to_json())
    assert resume_config(tmp_path, TrainFlags(method="bc-qfilter"), ()).ddpg.q_filter
    with pytest.raises(HerdemosError, match="--method bc-rl conflicts with the run's params"):
        resume_config(tmp_path, TrainFlags(method="bc-rl"), ())


@pytest.mark.parametrize(
    "params,label",
    [
        ({"demo": {"num_demo": 0}}, "HER only"),
        ({"demo": {"num_demo": 0}, "her": {"replay_strategy": "none"}}, "DDPG only"),
        ({"demo": {"num_demo": 5}, "ddpg": {"bc_loss": False}}, "demos in replay"),
        ({"demo": {"num_demo": 5}, "ddpg": {"bc_loss": True}}, "demos + BC"),
        (
            {
                "demo": {"num_demo": 5, "demo_reset_prob": 0.1},
                "ddpg": {"bc_loss": True, "q_filter": True},
            },
            "demos + BC + Q-filter + demo resets (0.1)",
        ),
        (
            {"demo": {"num_demo": 5, "demo_mirror": True}, "ddpg": {"bc_only": True}},
            "BC only + mirrored demos (x,y,diagonal)",
        ),
        (
            {"demo": {"num_demo": 5, "demo_mirror": True, "demo_mirror_planes": "x,y"}},
            "demos in replay + mirrored demos (x,y)",
        ),
        ({"demo": {"num_demo": 0}, "ddpg": {"q_filter": True}}, "unknown method"),
    ],
)
def test_method_labels(params, label):
    assert method_label(Config.from_dict(params)) == label
