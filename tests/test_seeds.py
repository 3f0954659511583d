"""benchmarks.seeds: the held-out headline of a suite trained with several seeds."""

import json

import pytest
from click.testing import CliRunner

from benchmarks import seeds
from herdemos.util import HerdemosError


def write_eval(folder, seed, successes, episodes=200, epoch=40):
    data = {
        "chosen": {"epoch": epoch},
        "report": {"successes": successes, "episodes": episodes},
    }
    (folder / f"eval-seed{seed}.json").write_text(json.dumps(data))


def test_mean_over_seeds_and_pooled_interval(tmp_path):
    for seed, successes in enumerate((100, 120, 140)):
        write_eval(tmp_path, seed, successes)
    (tmp_path / "eval-seed1.png").write_text("not read")
    result = seeds.summary(seeds.seed_results(tmp_path))
    assert result["seed_mean"] == pytest.approx(0.6)
    assert [s["success_rate"] for s in result["seeds"].values()] == [0.5, 0.6, 0.7]
    low, high = result["seed_mean_ci95"]
    # sd 0.1 over 3 seeds: half-width t(0.975, 2) * 0.1 / sqrt(3)
    assert (low, high) == pytest.approx((0.6 - 4.303 * 0.1 / 3**0.5, 0.6 + 4.303 * 0.1 / 3**0.5))
    assert result["pooled"]["successes"] == 360 and result["pooled"]["episodes"] == 600
    p_low, p_high = result["pooled"]["ci95"]
    assert p_low < 0.6 < p_high and p_high - p_low < high - low  # episodes only: narrower


def test_one_seed_has_no_interval_over_seeds(tmp_path):
    write_eval(tmp_path, 3, 50, episodes=100)
    result = seeds.summary(seeds.seed_results(tmp_path))
    assert result["seed_mean"] == 0.5 and result["seed_mean_ci95"] is None
    assert list(result["seeds"]) == ["3"]


def test_a_damaged_file_is_one_line_naming_it(tmp_path):
    (tmp_path / "eval-seed0.json").write_text('{"report": {}}')
    with pytest.raises(HerdemosError, match=r"eval-seed0\.json: not an evaluation file"):
        seeds.seed_results(tmp_path)


def test_cli_writes_the_summary_and_refuses_a_suite_without_evaluations(tmp_path, monkeypatch):
    monkeypatch.setattr(seeds, "RESULTS", tmp_path)
    (tmp_path / "push").mkdir()
    result = CliRunner().invoke(seeds.main, ["push"])
    assert result.exit_code == 1 and "no eval-seed<N>.json" in result.output
    assert "Traceback" not in result.output
    write_eval(tmp_path / "push", 0, 150)
    write_eval(tmp_path / "push", 1, 170)
    result = CliRunner().invoke(seeds.main, ["push"])
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "push" / "eval-seeds.json").read_text())
    assert written["suite"] == "push" and written["seed_mean"] == pytest.approx(0.8)


def test_the_index_headline_is_the_mean_over_seeds(tmp_path):
    from benchmarks.index import headline

    for seed, successes in enumerate((100, 120, 140)):
        write_eval(tmp_path, seed, successes)
    data = {"suite": "x", **seeds.summary(seeds.seed_results(tmp_path))}
    (tmp_path / seeds.OUTPUT).write_text(json.dumps(data))
    text, minutes = headline(tmp_path)
    assert text.startswith("**0.60** (0.35–0.85 over seeds) held-out, mean of 3 seeds × 200")
    assert minutes == "–"  # no training.json in the folder


def test_one_seed_s_index_headline_names_the_episodes_interval(tmp_path):
    from benchmarks.index import headline

    write_eval(tmp_path, 0, 100)
    data = {"suite": "x", **seeds.summary(seeds.seed_results(tmp_path))}
    (tmp_path / seeds.OUTPUT).write_text(json.dumps(data))
    text, _ = headline(tmp_path)
    assert "over episodes) held-out, mean of 1 seeds" in text
