"""Config: every field is read somewhere, overrides parse and fail clearly, bad combos refused."""

import ast
import dataclasses
import functools
import json
import re
from pathlib import Path

import pytest

from herdemos.config import SECTIONS, Config, with_overrides
from herdemos.config_checks import validate
from herdemos.experiment.config import parse_set_options
from herdemos.experiment.flags import TrainFlags
from herdemos.experiment.resolve import resolve_config, resume_config
from herdemos.util import HerdemosError

ROOT = Path(__file__).resolve().parents[1]


# The names the code holds a config, or one of its sections, in: `cfg.polyak`, `t.seed`,
# `self.config.ddpg.clip_obs`, `config.her.replay_k` (not `keras.layers` or `self.gamma`).
CONFIG_HOLDER = re.compile(r"^(self\.)?(config|cfg|d|t|demo)(\.(ddpg|her|demo|train))?$")


@functools.cache
def config_reads() -> dict[str, set[str]]:
    """Field name -> the expressions it is read from, over the package's own modules (parsed,
    so strings and comments that merely mention a field do not count)."""
    files = [p for p in ROOT.rglob("*.py") if "tests" not in p.parts and p.name != "config.py"]
    files = [p for p in files if not any(part.startswith((".", "build")) for part in p.parts)]
    reads: dict[str, set[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                reads.setdefault(node.attr, set()).add(ast.unparse(node.value))
    return reads


@pytest.mark.parametrize(
    "name",
    [f.name for s in SECTIONS for f in dataclasses.fields(getattr(Config(), s))],
)
def test_every_config_field_is_read(name):
    holders = {h for h in config_reads().get(name, set()) if CONFIG_HOLDER.match(h)}
    assert holders, f"config field {name!r} is never read from a config"


def test_set_overrides_parse_types():
    cfg = with_overrides(
        Config(),
        parse_set_options(("n_cycles=3", "ddpg.polyak=0.9", "bc_loss=true", "gamma=none")),
    )
    assert cfg.train.n_cycles == 3 and cfg.ddpg.polyak == 0.9 and cfg.ddpg.bc_loss is True
    assert cfg.ddpg.gamma is None


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("n_cycle=3", "unknown config field 'n_cycle'; did you mean 'n_cycles'?"),
        ("polyac=0.9", "unknown config field 'polyac'; did you mean 'polyak'?"),
        ("zzz=1", "unknown config field 'zzz'; every field is listed in docs/flags.md"),
        ("n_cycles=three", "expected a value of type int"),
        ("replay_strategy=final", "expected one of"),
        ("ddpg.n_cycles=3", "ddpg has no field 'n_cycles'; it is train.n_cycles"),
        ("ddpg.polyac=3", "ddpg has no field 'polyac'; did you mean 'polyak'?"),
        ("n_cycles", "expected FIELD=VALUE"),
    ],
)
def test_bad_set_items_get_clear_errors(item, message):
    with pytest.raises(HerdemosError, match=re.escape(message)):
        with_overrides(Config(), parse_set_options((item,)))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"demo_reset_prob": 0.1}, "--demo_reset_prob > 0 needs demonstrations"),
        ({"demo_mirror": True}, "--demo_mirror 1 needs demonstrations"),
        ({"demo_mirror_planes": "x,y"}, "--set demo_mirror_planes=x,y needs --demo_mirror 1"),
        ({"num_demo": 5, "demo_batch_size": 2000}, "demo_batch_size (2000)"),
        ({"demo_file": "d.npz"}, "--demo_file d.npz needs --num_demo N"),
        ({"pi_lr": float("nan")}, "pi_lr=nan: must be a finite number"),
        ({"noise_eps": float("inf")}, "noise_eps=inf: must be a finite number"),
        ({"buffer_size": 0}, "buffer_size must be >= 1"),
        ({"clip_obs": -1.0}, "clip_obs, norm_eps and norm_clip must be > 0"),
        ({"norm_eps": 0.0}, "clip_obs, norm_eps and norm_clip must be > 0"),
        ({"lambda2": -1.0}, "action_l2, lambda1 and lambda2 must be >= 0"),
    ],
)
def test_meaningless_combinations_are_refused(overrides, message):
    with pytest.raises(HerdemosError, match=re.escape(message)):
        validate(with_overrides(Config(), overrides))


def test_original_preset_is_applied_below_explicit_flags():

    config = resolve_config(TrainFlags(preset="original", seed=3), ("n_batches=7",))
    assert (config.train.n_cycles, config.train.rollout_batch_size) == (20, 1)
    assert config.ddpg.polyak == 0.8 and config.train.random_eps == 0.2
    assert config.train.seed == 3 and config.train.n_batches == 7  # flags and --set win


def test_stacking_preset_is_the_original_with_faster_targets_and_no_random_actions():

    config = resolve_config(TrainFlags(preset="stacking", env="FetchStack2-v1"), ())
    assert (config.train.n_cycles, config.train.rollout_batch_size) == (20, 1)
    assert config.ddpg.polyak == 0.6 and config.train.random_eps == 0.0
    assert config.train.noise_eps == 0.1  # Gaussian exploration stays
    validate(config)


def test_stacking_td3_preset_adds_the_twin_critic_to_the_stacking_preset():

    plain = resolve_config(TrainFlags(preset="stacking", env="FetchStack2-v1"), ())
    td3 = resolve_config(TrainFlags(preset="stacking-td3", env="FetchStack2-v1"), ())
    assert td3.ddpg.twin_q and td3.ddpg.target_noise == 0.2
    assert not plain.ddpg.twin_q and plain.ddpg.target_noise == 0.0
    assert td3.train == plain.train and td3.her == plain.her
    validate(td3)


def test_flag_text_is_never_parsed_as_a_set_value():
    """``--demo_file none`` names a file; only ``--set demo_file=none`` clears the field."""

    for name in ("none", "null"):
        flags = TrainFlags(num_demo=5, demo_file=name)
        assert resolve_config(flags, ()).demo.demo_file == name
    with pytest.raises(HerdemosError, match="--demo_file: empty path"):
        resolve_config(TrainFlags(num_demo=5, demo_file=" "), ())  # "$DEMOS" unset
    assert resolve_config(TrainFlags(demo_file="d.npz"), ("demo_file=none",)).demo.demo_file is None


def test_set_env_gets_that_envs_defaults_like_the_env_flag():

    by_set = resolve_config(TrainFlags(env="FetchPush-v4"), ("env=FetchReach-v4",))
    by_flag = resolve_config(TrainFlags(env="FetchReach-v4"), ())
    assert by_set == by_flag and by_set.train.n_epochs == 10


def _stored_run(tmp_path, flags, set_items=()):

    (tmp_path / "params.json").write_text(resolve_config(flags, set_items).to_json())
    return tmp_path


@pytest.mark.parametrize(
    ("flags", "set_items", "named"),
    [
        ({"bc_loss": False}, (), "--bc_loss 0 conflicts"),
        ({"seed": 4}, (), "--seed 4 conflicts"),
        ({}, ("seed=4",), "--set seed=4 conflicts"),
        ({}, ("ddpg.bc_loss=0",), "--set ddpg.bc_loss=0 conflicts"),
        ({"preset": "stacking"}, (), "--preset stacking (sets n_cycles=20) conflicts"),
    ],
)
def test_resume_conflicts_name_what_the_user_gave(tmp_path, flags, set_items, named):

    run = _stored_run(tmp_path, TrainFlags(bc_loss=True, num_demo=5, seed=3))
    with pytest.raises(HerdemosError, match=re.escape(named)):
        resume_config(run, TrainFlags(**flags), set_items)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[]", "not a JSON object of config sections"),
        ('{"train": {"n_epochs": "abc"}}', "train.n_epochs = 'abc': expected a value of type int"),
        ('{"train": {"seed": null}}', "train.seed = None: expected a value of type int"),
        ('{"ddpg": {"bc_loss": 1}}', "ddpg.bc_loss = 1: expected a value of type bool"),
        ('{"her": {"replay_strategy": "final"}}', "expected one of ('future', 'none')"),
        ('{"demo": []}', "section 'demo' is not a JSON object"),
        ('{"ddpg": {"pi_lr": 1' + "0" * 400 + "}}", "ddpg.pi_lr: a number too large for a float"),
    ],
)
def test_a_damaged_params_json_is_named_in_one_line_on_resume(tmp_path, content, problem):

    (tmp_path / "params.json").write_text(content)
    with pytest.raises(HerdemosError) as error:
        resume_config(tmp_path, TrainFlags(), ())
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'params.json'}: unreadable (")
    assert problem in message and "\n" not in message


def test_config_round_trips_through_json_with_ints_taken_for_floats():
    config = Config()
    assert Config.from_dict(json.loads(config.to_json())) == config
    assert Config.from_dict({"ddpg": {"pi_lr": 1}}).ddpg.pi_lr == 1.0


def test_resume_accepts_repeated_flags_and_takes_the_n_epochs_set_last(tmp_path):

    run = _stored_run(tmp_path, TrainFlags(bc_loss=True, num_demo=5, preset="stacking"))
    again = TrainFlags(bc_loss=True, num_demo=5, preset="stacking", n_epochs=200)
    assert resume_config(run, again, ("n_epochs=300",)).train.n_epochs == 300
    assert resume_config(run, again, ()).train.n_epochs == 200


def test_an_old_params_json_with_retired_options_left_unset_resumes(tmp_path):
    stored = json.loads(resolve_config(TrainFlags(seed=3), ()).to_json())
    stored["her"]["reward_threshold"] = None
    stored["demo"]["demo_replay_k"] = None
    (tmp_path / "params.json").write_text(json.dumps(stored))
    assert resume_config(tmp_path, TrainFlags(), ()) == resolve_config(TrainFlags(seed=3), ())


@pytest.mark.parametrize(
    ("section", "name", "value"), [("her", "reward_threshold", 0.03), ("demo", "demo_replay_k", 0)]
)
def test_a_run_that_set_a_retired_option_is_refused_in_one_line(tmp_path, section, name, value):
    stored = json.loads(Config().to_json())
    stored[section][name] = value
    (tmp_path / "params.json").write_text(json.dumps(stored))
    with pytest.raises(HerdemosError) as error:
        resume_config(tmp_path, TrainFlags(), ())
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'params.json'}: {section}.{name} = {value!r}: ")
    assert f"{name} was retired" in message and "docs/retired.md" in message
    assert "\n" not in message


@pytest.mark.parametrize("item", ["reward_threshold=0.03", "demo.demo_replay_k=0"])
def test_set_of_a_retired_option_says_it_was_retired(item):
    with pytest.raises(HerdemosError, match=r"was retired .*docs/retired\.md"):
        parse_set_options((item,))
