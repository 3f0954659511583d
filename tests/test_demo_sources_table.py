"""The demo-source benchmark: one suite per task, demonstrator and method, whose demos come from
that demonstrator, and a table that reports what has run and says what has not."""

import dataclasses
import json

import numpy as np

from benchmarks import demo_sources
from benchmarks.suites import SUITES
from benchmarks.suites.demo_sources import METHODS, SOURCES, TASKS, suite_name


def test_every_cell_is_a_suite_recording_its_demonstrator():
    for task in TASKS:
        for source, spec in SOURCES.items():
            for method in METHODS:
                suite = SUITES[suite_name(task, source, method)]
                assert suite.demo_style == spec.style and suite.demo_noise == spec.noise_for(task)
                assert suite.config.demo.num_demo == 100
    original = SUITES[suite_name("pickplace", "original", "bc-qfilter")]
    assert original.own_demos and "_original_" in original.demo_file_name
    assert "original demonstrator" in original.label
    own = SUITES[suite_name("pickplace", "herdemos", "bc")]
    assert not own.own_demos  # train.py's cached scripted demos
    clean = dataclasses.replace(original, demo_style="herdemos")
    assert "_original_" not in clean.demo_file_name


def _training(suite, curves):
    runs = {
        f"seed{i}": {"success": c, "env_steps": [1000 * (k + 1) for k in range(len(c))]}
        for i, c in enumerate(curves)
    }
    return {"label": "x", "runs": runs, "summary": {suite: {"last_10_epoch_mean": 0.5}}}


def test_table_reads_steps_to_levels_and_held_out_and_marks_missing_cells(tmp_path):
    name = suite_name("pickplace", "original", "bc-qfilter")
    folder = tmp_path / name
    folder.mkdir()
    # Seed mean 0, 0.2, 0.6, 0.9, 1.0, 1.0: smoothed over 3 epochs it first reaches 0.5 at
    # epoch 4 ((0.2+0.6+0.9)/3 = 0.57) and 0.95 at epoch 6.
    curves = [[0, 0.2, 0.6, 0.9, 1.0, 1.0], [0, 0.2, 0.6, 0.9, 1.0, 1.0]]
    (folder / "training.json").write_text(json.dumps(_training(name, curves)))
    held = {"seed_mean": 0.9, "seed_mean_ci95": [0.8, 1.0], "pooled": {"episodes": 400}}
    (folder / "eval-seeds.json").write_text(json.dumps(held))
    row = demo_sources.cell(name, tmp_path)
    assert row["seeds"] == 2 and row["epochs"] == 6
    assert row["env_steps_to"] == {"0.5": 4000.0, "0.8": 5000.0, "0.95": 6000.0}
    assert row["held_out"]["ci95"] == [0.8, 1.0]
    data = demo_sources.table(tmp_path)
    assert data["push"]["human"]["bc"]["status"] == "not run"
    text = demo_sources.markdown(data, {"pickplace/original": 1.0}, {"pickplace/original": 0.02})
    row = "| original | 1.00 (0.02) | bc-qfilter | 2 × 6 | 4k | 5k | 6k | 0.50 | 0.90 (0.80–1.00) |"
    assert row in text
    assert demo_sources.figure(tmp_path, tmp_path / "f.png") and (tmp_path / "f.png").stat().st_size


def test_exploring_success_is_read_for_noise_free_sources_only(tmp_path):
    rows = [
        {
            "task": "pickplace",
            "style": "original",
            "condition": "learner exploration",
            "success": 0.02,
        },
        {"task": "pickplace", "style": "original", "condition": "clean", "success": 1.0},
        {"task": "push", "style": "herdemos", "condition": "learner exploration", "success": 0.8},
    ]
    (tmp_path / "demo-sources").mkdir()
    (tmp_path / "demo-sources" / "robustness.json").write_text(json.dumps({"results": rows}))
    # herdemos-noisy and original-noisy share the styles but add noise: no value for them.
    assert demo_sources.exploring_success(tmp_path) == {
        "pickplace/original": 0.02,
        "push/herdemos": 0.8,
    }
    assert demo_sources.exploring_success(tmp_path / "nothing") == {}


def test_a_curve_that_never_gets_there_has_no_step_count():
    runs = {"seed0": {"success": list(np.full(5, 0.9)), "env_steps": [1, 2, 3, 4, 5]}}
    assert demo_sources.steps_to(runs, 0.95) is None and demo_sources.steps_to(runs, 0.8) == 1
