"""benchmarks.demo_count: Stack3's held-out success by demo count, from the evaluation files."""

import json

from click.testing import CliRunner


def write_eval(results, suite, success, epoch=30):
    (results / f"{suite}-eval.json").write_text(
        json.dumps(
            {
                "chosen": {"epoch": epoch},
                "report": {
                    "episodes": 200,
                    "success_rate": success,
                    "ci95": [success - 0.05, success + 0.04],
                },
            }
        )
    )


def test_points_come_from_the_evaluations_and_missing_ones_are_named(tmp_path, monkeypatch):
    from benchmarks import demo_count

    monkeypatch.setattr(
        demo_count,
        "SERIES",
        {"BC alone": {1000: "bc-1000", 100: "bc-100"}, "method": {100: "method-100"}},
    )
    monkeypatch.setattr(demo_count, "MIRRORED", {"BC alone": "bc-mirror", "method": "m-mirror"})
    write_eval(tmp_path, "bc-1000", 0.92)
    write_eval(tmp_path, "bc-100", 0.19, epoch=10)
    write_eval(tmp_path, "bc-mirror", 0.85, epoch=60)
    series, missing = demo_count.collect(tmp_path)
    mirrored = "BC alone" + demo_count.MIRROR_SUFFIX
    assert missing == ["method-100", "m-mirror"] and list(series) == ["BC alone", mirrored]
    assert [
        (p["demos"], p["suite"], p["epoch"], p["success_rate"]) for p in series["BC alone"]
    ] == [
        (100, "bc-100", 10, 0.19),
        (1000, "bc-1000", 30, 0.92),
    ]
    assert [(p["demos"], p["suite"], p["success_rate"]) for p in series[mirrored]] == [
        (100, "bc-mirror", 0.85)
    ]
    demo_count.plot(series, tmp_path / "figure.png")
    assert (tmp_path / "figure.png").stat().st_size > 0


def test_nothing_to_plot_is_one_line_and_writes_nothing(tmp_path, monkeypatch):
    from benchmarks import demo_count

    monkeypatch.setattr(demo_count, "RESULTS", tmp_path)
    result = CliRunner().invoke(demo_count.main, [])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: no held-out evaluation of any demo-count suite in {tmp_path}; run "
        "python -m benchmarks.evaluate SUITE first"
    ]
    assert list(tmp_path.iterdir()) == []


def test_every_suite_it_reads_is_a_training_suite():
    from benchmarks.demo_count import MIRRORED, SERIES
    from benchmarks.suites import SUITES

    for suites in SERIES.values():
        for demos, suite in suites.items():
            assert suite in SUITES
            flags = SUITES[suite].flags
            assert flags[flags.index("--num_demo") + 1] == str(demos)
            assert SUITES[suite].env == "FetchStack3-Step-v1"
            assert SUITES[suite].demo_episodes == demos and SUITES[suite].demo_noise == 0.1
    for method, suite in MIRRORED.items():
        assert method in SERIES
        flags = SUITES[suite].flags
        assert flags[flags.index("--num_demo") + 1] == "100"
        assert flags[flags.index("--demo_mirror") + 1] == "1"
        assert SUITES[suite].env == "FetchStack3-Step-v1" and SUITES[suite].demo_noise == 0.1


def test_a_damaged_evaluation_is_one_line_naming_the_file(tmp_path, monkeypatch):
    from benchmarks import demo_count

    monkeypatch.setattr(demo_count, "RESULTS", tmp_path)
    monkeypatch.setattr(demo_count, "SERIES", {"BC alone": {100: "bc-100"}})
    monkeypatch.setattr(demo_count, "MIRRORED", {})
    (tmp_path / "bc-100-eval.json").write_text('{"chosen": {"epoch": 10}}')
    result = CliRunner().invoke(demo_count.main, [])
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"Error: {tmp_path / 'bc-100-eval.json'}: not a readable held-out")
    assert line.endswith("rerun python -m benchmarks.evaluate bc-100")
    assert [p.name for p in tmp_path.iterdir()] == ["bc-100-eval.json"]
