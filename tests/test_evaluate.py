"""benchmarks.evaluate: checkpoints are compared on shared episodes, the winner reported on fresh
ones, with honest binomial intervals."""

import json
import shutil

import pytest
from cli_asserts import assert_one_line_error
from click.testing import CliRunner

from benchmarks import evaluate, held_out
from benchmarks.checkpoints import find_checkpoints
from benchmarks.evaluation_figure import rates_with_error_bars
from benchmarks.held_out import evaluate_suite
from benchmarks.intervals import rate_entry, wilson_interval
from benchmarks.suites import Suite
from herdemos.util import HerdemosError

from point_env import point_policy

ENV_ID = "point_env:PointGoal-v0"  # the env point_policy names


def write_run(seed_dir, gains_by_epoch):
    seed_dir.mkdir(parents=True)
    rows = ["epoch,total_env_steps"] + [f"{e},{e * 100}" for e in range(1, 31)]
    (seed_dir / "progress.csv").write_text("\n".join(rows) + "\n")
    for epoch, gain in gains_by_epoch.items():
        point_policy(gain).save(seed_dir / f"policy_{epoch}.pkl")


def test_wilson_interval_matches_the_textbook_value_and_stays_in_range():
    low, high = wilson_interval(95, 100)
    assert low == pytest.approx(0.8882, abs=1e-3) and high == pytest.approx(0.9785, abs=1e-3)
    assert wilson_interval(100, 100)[1] == pytest.approx(1.0)
    assert wilson_interval(0, 100)[0] == pytest.approx(0.0)
    assert wilson_interval(0, 100)[1] > 0.02  # no success seen is not a zero rate


def test_checkpoints_are_found_per_seed_in_epoch_order_with_their_env_steps(tmp_path):
    write_run(tmp_path / "seed0", {20: 0.0, 10: 0.0})
    (tmp_path / "seed0" / "policy_best.pkl").write_bytes(b"not a checkpoint name")
    write_run(tmp_path / "seed1", {30: 0.0})
    found = find_checkpoints(tmp_path)
    assert [(c.seed_dir.name, c.epoch, c.env_steps) for c in found] == [
        ("seed0", 10, 1000),
        ("seed0", 20, 2000),
        ("seed1", 30, 3000),
    ]


def test_the_better_checkpoint_is_chosen_and_reported_on_fresh_episodes(tmp_path):
    write_run(tmp_path / "suite" / "seed0", {10: 0.0, 20: 20.0, 30: 0.0})
    payload = evaluate_suite(tmp_path / "suite", episodes=40, report_episodes=60, env_id=ENV_ID)
    rates = {c["epoch"]: c["success_rate"] for c in payload["checkpoints"]}
    # Standing still succeeds only if the point starts within 0.1 of the goal; steering gets
    # there whenever 10 steps of 0.1 suffice.
    assert rates[10] == rates[30] < 0.1 < 0.3 < rates[20]
    assert payload["chosen"]["epoch"] == 20
    report = payload["report"]
    assert report["episodes"] == 60 and report["ci95"][0] <= report["success_rate"]
    assert report["success_rate"] <= report["ci95"][1]
    assert payload["report_first_seed"] != payload["selection_first_seed"]


def test_seed_lets_only_that_training_seeds_checkpoints_compete(tmp_path):
    write_run(tmp_path / "suite" / "seed0", {10: 20.0})
    write_run(tmp_path / "suite" / "seed1", {10: 0.0, 20: 0.0})
    payload = evaluate_suite(tmp_path / "suite", 10, 10, env_id=ENV_ID, seed=1)
    assert [(c["seed_dir"], c["epoch"]) for c in payload["checkpoints"]] == [
        ("seed1", 10),
        ("seed1", 20),
    ]
    with pytest.raises(HerdemosError, match="seed2: no policy_<epoch>.pkl files"):
        evaluate_suite(tmp_path / "suite", 10, 10, env_id=ENV_ID, seed=2)


def test_a_suite_without_saved_policies_is_a_one_line_error(tmp_path):
    (tmp_path / "empty" / "seed0").mkdir(parents=True)
    with pytest.raises(HerdemosError, match="no policy_<epoch>.pkl files"):
        evaluate_suite(tmp_path / "empty", episodes=5, report_episodes=5, env_id=ENV_ID)


def test_min_epoch_leaves_out_earlier_checkpoints(tmp_path):
    write_run(tmp_path / "suite" / "seed0", {10: 20.0, 20: 0.0, 30: 0.0})
    payload = evaluate_suite(
        tmp_path / "suite", episodes=10, report_episodes=10, min_epoch=20, env_id=ENV_ID
    )
    assert [c["epoch"] for c in payload["checkpoints"]] == [20, 30]
    with pytest.raises(HerdemosError, match="from epoch 40 on"):
        evaluate_suite(
            tmp_path / "suite", episodes=10, report_episodes=10, min_epoch=40, env_id=ENV_ID
        )


@pytest.fixture
def suite_home(tmp_path, monkeypatch):
    """A fake suite ``suite`` known to the CLI, with its runs and results under ``tmp_path``."""
    monkeypatch.setattr(evaluate, "SUITES", {"suite": Suite(ENV_ID, (), 1, "suite")})
    monkeypatch.setattr(evaluate, "RUNS", tmp_path / "runs")
    monkeypatch.setattr(evaluate, "RESULTS", tmp_path / "results")
    (tmp_path / "results").mkdir()
    return tmp_path


def training_results() -> dict:
    return {"runs": {"seed0": {"env_steps": [1000, 2000, 3000], "success": [0.0, 0.5, 1.0]}}}


def snapshot(root) -> dict:
    """Every file under ``root`` with its bytes: what a refused command must leave alone."""
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_cli_writes_the_evaluation_json_and_figure_of_a_known_suite(suite_home):
    write_run(suite_home / "runs" / "suite" / "seed0", {10: 0.0, 20: 20.0})
    (suite_home / "results" / "suite").mkdir()
    (suite_home / "results" / "suite" / "training.json").write_text(json.dumps(training_results()))
    args = ["suite", "--episodes", "5", "--report_episodes", "5", "--min_epoch", "10"]
    result = CliRunner().invoke(evaluate.main, args)
    assert result.exit_code == 0, result.output
    payload = json.loads((suite_home / "results" / "suite" / "eval.json").read_text())
    assert payload["chosen"]["epoch"] == 20
    # The provenance reruns exactly this evaluation, whatever sys.argv held.
    assert payload["command"] == (
        "python -m benchmarks.evaluate suite --episodes 5 --report_episodes 5 --min_epoch 10 "
        "--average_last 0"
    )
    png = (suite_home / "results" / "suite" / "eval.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert sorted(p.name for p in (suite_home / "results" / "suite").iterdir()) == [
        "eval.json",
        "eval.png",
        "training.json",
    ]  # no temporary file left behind


def test_the_cli_with_seed_writes_that_seeds_own_files(suite_home, monkeypatch):
    write_run(suite_home / "runs" / "suite" / "seed0", {10: 20.0})
    write_run(suite_home / "runs" / "suite" / "seed1", {10: 0.0})
    (suite_home / "results" / "suite").mkdir()
    training = training_results()
    training["runs"]["seed1"] = {"env_steps": [1000], "success": [0.5]}
    (suite_home / "results" / "suite" / "training.json").write_text(json.dumps(training))
    drawn = []
    figure = evaluate.plot_evaluation
    monkeypatch.setattr(
        evaluate, "plot_evaluation", lambda p, t, out: (drawn.append(t), figure(p, t, out))
    )
    args = ["suite", "--episodes", "5", "--report_episodes", "5", "--seed", "1"]
    result = CliRunner().invoke(evaluate.main, args)
    assert result.exit_code == 0, result.output
    assert list(drawn[0]["runs"]) == ["seed1"]  # the figure shows that seed's training log only
    payload = json.loads((suite_home / "results" / "suite" / "eval-seed1.json").read_text())
    assert payload["chosen"]["seed_dir"] == "seed1"
    assert payload["command"].endswith("--average_last 0 --seed 1")
    assert sorted(p.name for p in (suite_home / "results" / "suite").iterdir()) == [
        "eval-seed1.json",
        "eval-seed1.png",
        "training.json",
    ]


def test_redraw_draws_the_written_evaluation_again_without_runs_or_episodes(
    suite_home, monkeypatch
):
    write_run(suite_home / "runs" / "suite" / "seed1", {10: 20.0})
    results = suite_home / "results" / "suite"
    results.mkdir()
    training = training_results()
    training["runs"]["seed1"] = {"env_steps": [1000], "success": [0.5]}
    (results / "training.json").write_text(json.dumps(training))
    args = ["suite", "--episodes", "5", "--report_episodes", "5", "--seed", "1"]
    assert CliRunner().invoke(evaluate.main, args).exit_code == 0
    written = (results / "eval-seed1.json").read_bytes()
    (results / "eval-seed1.png").unlink()
    shutil.rmtree(suite_home / "runs")  # a later machine has the results, not the run folders
    before = snapshot(suite_home)

    def no_episodes(*args):
        raise AssertionError("--redraw ran episodes")

    monkeypatch.setattr(held_out, "episode_successes", no_episodes)
    drawn = []
    figure = evaluate.plot_evaluation
    monkeypatch.setattr(
        evaluate, "plot_evaluation", lambda p, t, out: (drawn.append((p, t)), figure(p, t, out))
    )
    result = CliRunner().invoke(evaluate.main, ["suite", "--seed", "1", "--redraw"])
    assert result.exit_code == 0, result.output
    payload, drawn_training = drawn[0]
    assert payload == json.loads(written)
    assert list(drawn_training["runs"]) == ["seed1"]
    after = snapshot(suite_home)
    png = results / "eval-seed1.png"
    assert after.pop(png).startswith(b"\x89PNG")
    assert after == before  # the figure is all it writes


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "no evaluation to redraw"),
        (b"{not json", "not readable JSON"),
        (b'{"checkpoints": [], "chosen": {}, "report": {}}', "not an evaluation"),
        (b'{"chosen": {}, "report": {}}', "not an evaluation"),
        (b'{"checkpoints": [{}], "chosen": {}, "report": {}}', "not an evaluation"),
    ],
)
def test_redraw_of_a_missing_or_damaged_evaluation_is_a_one_line_error(
    suite_home, content, fragment
):
    results = suite_home / "results" / "suite"
    results.mkdir()
    if content is not None:
        (results / "eval.json").write_bytes(content)
    before = snapshot(suite_home)
    result = CliRunner().invoke(evaluate.main, ["suite", "--redraw"])
    assert_one_line_error(result, str(results / "eval.json"), fragment)
    assert snapshot(suite_home) == before


@pytest.mark.parametrize("suite", ["nosuch", "suite/", "../suite", "/tmp/x/", ""])
def test_an_unknown_or_path_like_suite_is_refused_and_nothing_is_written(suite_home, suite):
    write_run(suite_home / "runs" / "suite" / "seed0", {10: 0.0})
    before = snapshot(suite_home)
    result = CliRunner().invoke(evaluate.main, [suite, "--episodes", "1"])
    assert_one_line_error(result, f"SUITE {suite!r}", "python -m benchmarks.run --list")
    assert snapshot(suite_home) == before


def test_average_last_1_is_refused_and_the_help_says_what_is_allowed(suite_home):
    write_run(suite_home / "runs" / "suite" / "seed0", {10: 0.0, 20: 0.0})
    before = snapshot(suite_home)
    result = CliRunner().invoke(evaluate.main, ["suite", "--average_last", "1"])
    assert_one_line_error(result, "--average_last 1", "give 0 (off) or 2 or more")
    assert snapshot(suite_home) == before
    with pytest.raises(HerdemosError, match="--average_last 1"):
        evaluate_suite(suite_home / "runs" / "suite", 5, 5, average_last=1, env_id=ENV_ID)
    help_text = " ".join(CliRunner().invoke(evaluate.main, ["--help"]).output.split())
    assert "0 (off) or N >= 2" in help_text


@pytest.mark.parametrize(
    ("progress", "fragment"),
    [
        ("epoch,total_env_steps\n1,abc\n", "not a progress log of numbers"),
        ("epoch,total_env_steps\n,100\n", "not a progress log of numbers"),
        ("epoch,steps\n1,100\n", "no 'total_env_steps' column"),
    ],
)
def test_a_damaged_progress_csv_is_a_one_line_error_naming_it(suite_home, progress, fragment):
    seed_dir = suite_home / "runs" / "suite" / "seed0"
    write_run(seed_dir, {10: 0.0})
    (seed_dir / "progress.csv").write_text(progress)
    before = snapshot(suite_home)
    result = CliRunner().invoke(evaluate.main, ["suite", "--episodes", "1"])
    assert_one_line_error(result, str(seed_dir / "progress.csv"), fragment)
    assert snapshot(suite_home) == before


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b"{not json", "not valid JSON"), (b"\xff\xfe", "not valid JSON"), (b"[]", '"runs"')],
)
def test_a_damaged_training_results_json_is_refused_before_any_episode(
    suite_home, monkeypatch, content, fragment
):
    write_run(suite_home / "runs" / "suite" / "seed0", {10: 0.0})
    (suite_home / "results" / "suite").mkdir()
    (suite_home / "results" / "suite" / "training.json").write_bytes(content)
    before = snapshot(suite_home)

    def no_episodes(*args):
        raise AssertionError("episodes were run before the results file was checked")

    monkeypatch.setattr(held_out, "episode_successes", no_episodes)
    result = CliRunner().invoke(evaluate.main, ["suite", "--episodes", "1"])
    assert_one_line_error(result, str(suite_home / "results" / "suite" / "training.json"), fragment)
    assert snapshot(suite_home) == before


def test_an_unwritable_results_folder_is_refused_before_any_episode(suite_home, monkeypatch):
    write_run(suite_home / "runs" / "suite" / "seed0", {10: 0.0})
    monkeypatch.setattr(evaluate, "RESULTS", suite_home / "runs" / "suite" / "seed0" / "x.pkl")
    (suite_home / "runs" / "suite" / "seed0" / "x.pkl").write_bytes(b"a file")
    before = snapshot(suite_home)
    result = CliRunner().invoke(evaluate.main, ["suite", "--episodes", "1"])
    assert_one_line_error(result, "x.pkl is a file, not a folder")
    assert snapshot(suite_home) == before


def test_episodes_run_on_the_suites_env_and_a_policy_for_another_is_refused(tmp_path):
    """The env comes from the suite table, never from a policy file (whose module:Name id
    would choose a module to import)."""
    write_run(tmp_path / "suite" / "seed0", {10: 0.0})
    planted = point_policy(0.0)
    planted.metadata["env_id"] = "planted:Nothing"
    planted.save(tmp_path / "suite" / "seed0" / "policy_20.pkl")
    with pytest.raises(HerdemosError, match="policy_20.pkl: a policy for planted:Nothing"):
        evaluate_suite(tmp_path / "suite", episodes=2, report_episodes=2, env_id=ENV_ID)


@pytest.mark.parametrize("n", [1, 7, 100, 200])
def test_an_all_or_nothing_rate_has_its_interval_end_exactly_at_the_rate(n):
    # Rounding once put the upper bound of 100/100 just below 1.0, and the figure's error bar
    # went negative.
    assert wilson_interval(n, n)[1] == 1.0 and wilson_interval(0, n)[0] == 0.0
    rate, yerr = rates_with_error_bars([rate_entry([True] * n), rate_entry([False] * n)])
    assert (yerr >= 0).all() and list(rate) == [1.0, 0.0]
