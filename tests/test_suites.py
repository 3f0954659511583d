"""The benchmark suites are data: labels come from flags, budgets from the runs, results from
one folder per suite, and no code reads meaning out of a suite's name."""

import ast
import dataclasses
import json
from pathlib import Path

import pytest

from benchmarks.index import OTHER_FOLDERS, groups, index_markdown
from benchmarks.report import RESULTS, TRAINING
from benchmarks.suites import FAMILIES, SUITES, Suite, parse_flags, suite_config, suite_label
from herdemos.methods import METHODS
from herdemos.util import HerdemosError

ROOT = Path(__file__).resolve().parents[1]


def test_labels_are_generated_from_the_flags_never_typed():
    assert "label" not in {f.name for f in dataclasses.fields(Suite)}
    base = Suite("FetchStack2-Step-v1", ("--num_demo", "100", "--bc_loss", "1"), 1, "g")
    assert base.label == "demos + BC; 100 demos"
    tuned = dataclasses.replace(
        base,
        flags=(*base.flags, "--q_filter", "1", "--demo_reset_prob", "0.5", "--preset", "stacking"),
        demo_noise=0.1,
    )
    assert tuned.label == (
        "demos + BC + Q-filter; 100 demos (noise 0.1); demo resets 0.5; --preset stacking"
    )
    env = "FetchPickAndPlace-v4"
    assert suite_label(env, ("--num_demo", "0")) == "HER only"
    assert suite_label(env, ("--num_demo", "300", "--set", "bc_only=1")) == "BC only; 300 demos"
    mirrored = ("--num_demo", "100", "--demo_mirror", "1", "--set", "ddpg.polyak=0.9")
    assert suite_label(env, mirrored, demo_miss=0.2) == (
        "demos in replay; 100 demos (missed grasps 0.2) + mirror images (x,y,diagonal); "
        "ddpg.polyak=0.9"
    )


@pytest.mark.parametrize("name", list(METHODS))
def test_the_method_in_a_label_is_the_one_train_py_resolves_named_as_methods_py_names_it(name):
    """--method and the seed's switches give one label, methods.py's, and the method's flags
    are not repeated after it."""
    method = METHODS[name]
    demos = ("--num_demo", "100" if method.demos else "0")
    switches = ("--bc_loss", str(int(method.bc_loss)), "--q_filter", str(int(method.q_filter)))
    switches += ("--set", f"bc_only={int(method.bc_only)}")
    env = "FetchPush-v4"
    by_method = suite_label(env, (*demos, "--method", name))
    assert by_method == suite_label(env, (*demos, *switches))
    assert by_method == method.label + ("; 100 demos" if method.demos else "")
    assert suite_config(env, (*demos, "--method", name)) == suite_config(env, (*demos, *switches))


def test_a_suite_whose_flags_train_py_refuses_has_a_one_line_error_naming_them():
    refused = Suite("FetchPush-v4", ("--num_demo", "100", "--q_filter", "1"), 1, "g")
    with pytest.raises(HerdemosError, match=r"^suite flags --num_demo 100 --q_filter 1: --q_filt"):
        _ = refused.label
    with pytest.raises(HerdemosError, match="--method bc needs demonstrations"):
        suite_label("FetchPush-v4", ("--method", "bc"))
    with pytest.raises(HerdemosError, match="'--num_demo'"):
        suite_label("FetchPush-v4", ("--num_demo", "many"))


def test_flags_that_are_not_name_value_pairs_are_refused():
    with pytest.raises(ValueError, match="--name value pairs"):
        parse_flags(("--num_demo", "100", "stray"))


@pytest.mark.parametrize("name", [n for n in SUITES if (RESULTS / n / TRAINING).exists()])
def test_each_suite_declares_what_its_results_were_trained_with(name):
    """Same env, config (so a preset may stand for the --set flags it equals), demos, seeds,
    and the epoch budget actually run."""
    suite = SUITES[name]
    data = json.loads((RESULTS / name / TRAINING).read_text())
    assert suite.env == data["env"]
    assert suite.config == suite_config(data["env"], tuple(data["train_flags"]))
    assert suite.epochs == data["epochs"] and list(suite.seeds) == data["seeds"]
    assert suite.demo_noise == (data.get("demo_noise") or 0.0)
    assert suite.demo_miss_prob == (data.get("demo_miss_prob") or 0.0)
    assert suite.demo_episodes == data.get("demo_episodes", 100)


def test_push_and_slide_have_the_methods_recipe():
    recipe = ("--num_demo", "100", "--bc_loss", "1", "--q_filter", "1")
    assert (SUITES["push"].env, SUITES["push"].flags, SUITES["push"].epochs) == (
        "FetchPush-v4",
        recipe,
        80,
    )
    assert (SUITES["slide"].env, SUITES["slide"].flags, SUITES["slide"].epochs) == (
        "FetchSlide-v4",
        recipe,
        40,
    )
    assert SUITES["push"].seeds == SUITES["slide"].seeds == (0, 1, 2)


def test_a_group_folder_is_its_own_suite_or_no_suite_at_all():
    for group, names in groups(SUITES).items():
        assert group not in OTHER_FOLDERS
        assert group not in SUITES or names == [group]


def test_the_results_top_level_holds_only_known_folders_and_the_index():
    entries = {p.name: p for p in RESULTS.iterdir()}
    assert entries.pop("README.md").is_file()
    assert all(p.is_dir() for p in entries.values())
    assert set(entries) <= set(SUITES) | set(groups(SUITES)) | set(OTHER_FOLDERS)


def test_the_committed_index_is_the_generated_one():
    """Rerun python -m benchmarks.index after changing a suite or its results."""
    assert (RESULTS / "README.md").read_text() == index_markdown(RESULTS, FAMILIES)


def test_renaming_every_suite_changes_nothing_but_the_names(tmp_path):
    """No code reads a setting, a group or a pairing out of a suite's name."""
    opaque = {
        family: {f"suite{i}-{family[:3]}": s for i, s in enumerate(members.values())}
        for family, members in FAMILIES.items()
    }
    renamed = index_markdown(tmp_path, opaque)
    original = index_markdown(tmp_path, FAMILIES)
    for old, new in zip(  # noqa: B905 (equal lengths by construction)
        [n for m in FAMILIES.values() for n in m], [n for m in opaque.values() for n in m]
    ):
        original = original.replace(f"`{old}`", f"`{new}`").replace(f"({old}/)", f"({new}/)")
        original = original.replace(f"run {old}`", f"run {new}`")
    assert renamed == original


def test_no_module_outside_the_declarations_names_a_suite():
    """Code refers to suites through their data (group, flags), never by a typed name."""
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        tree = ast.parse(path.read_text())
        strings = {
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        }
        assert not strings & set(SUITES), path


def test_an_analysis_goes_to_the_folder_of_the_suite_that_trained_the_policy(tmp_path):
    from benchmarks.report import RUNS, analysis_path

    policy = RUNS / "stack2" / "seed0" / "policy_best.pkl"
    assert analysis_path(policy, "failures-x.json") == RESULTS / "stack2" / "failures-x.json"
    elsewhere = tmp_path / "stack2" / "seed0" / "policy_best.pkl"
    assert analysis_path(elsewhere, "f.json") == RESULTS / "analysis" / "f.json"
    retired = RUNS / "no-such-suite" / "seed0" / "policy_best.pkl"
    assert analysis_path(retired, "f.json") == RESULTS / "analysis" / "f.json"
