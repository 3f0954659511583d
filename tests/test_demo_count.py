"""benchmarks.demo_count: Stack3's held-out success by demo count, from the evaluation files of
the suites the demo-count group declares."""

import json

from click.testing import CliRunner

from benchmarks.suites import Suite

BC_ONLY = ("--set", "bc_only=1")
METHOD = ("--bc_loss", "1", "--q_filter", "1")
MIRROR = ("--demo_mirror", "1")


def suite(flags: tuple[str, ...], demos: int, group: str = "count") -> Suite:
    return Suite(
        "FetchStack3-Step-v1", ("--num_demo", str(demos), *flags), 1, group, demo_episodes=demos
    )


def write_eval(results, suite_name, success, epoch=30):
    (results / suite_name).mkdir()
    (results / suite_name / "eval.json").write_text(
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


def test_points_come_from_the_evaluations_and_missing_ones_are_named(tmp_path):
    """Names are arbitrary: the series, the demo count and the mirror stars come from each
    suite's flags and demo settings, never from its name."""
    from benchmarks import demo_count

    suites = {
        "a": suite(BC_ONLY, 1000),
        "b": suite(BC_ONLY, 100),
        "c": suite((*BC_ONLY, *MIRROR), 100),
        "d": suite(METHOD, 100),
        "e": suite((*METHOD, *MIRROR), 100),
    }
    write_eval(tmp_path, "a", 0.92)
    write_eval(tmp_path, "b", 0.19, epoch=10)
    write_eval(tmp_path, "c", 0.85, epoch=60)
    series, missing = demo_count.collect(tmp_path, suites)
    mirrored = "BC only" + demo_count.MIRROR_SUFFIX
    assert missing == ["d", "e"] and list(series) == ["BC only", mirrored]
    assert [(p["demos"], p["suite"], p["epoch"], p["success_rate"]) for p in series["BC only"]] == [
        (100, "b", 10, 0.19),
        (1000, "a", 30, 0.92),
    ]
    assert [(p["demos"], p["suite"], p["success_rate"]) for p in series[mirrored]] == [
        (100, "c", 0.85)
    ]
    demo_count.plot(series, tmp_path / "figure.png")
    assert (tmp_path / "figure.png").stat().st_size > 0


def test_the_group_is_read_from_the_suite_data():
    from benchmarks.demo_count import group_suites

    suites = {"x": suite(BC_ONLY, 100), "y": suite(BC_ONLY, 300, group="other")}
    assert list(group_suites(suites, "count")) == ["x"]


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


def test_the_declared_group_differs_only_in_its_demos():
    """Every suite of the live demo-count group trains Stack3 on the same noisy demos and
    says in its data how many it loads; mirror images only ever add to 100 demos."""
    from benchmarks.demo_count import group_suites
    from benchmarks.suites import SUITES
    from benchmarks.suites.stacking import DEMO_COUNT

    group = group_suites(SUITES, DEMO_COUNT)
    assert len(group) >= 6
    for member in group.values():
        assert member.config.demo.num_demo == member.demo_episodes
        assert member.env == "FetchStack3-Step-v1" and member.demo_noise == 0.1
        if member.config.demo.demo_mirror:
            assert member.demo_episodes == 100


def test_a_damaged_evaluation_is_one_line_naming_the_file(tmp_path, monkeypatch):
    from benchmarks import demo_count

    monkeypatch.setattr(demo_count, "RESULTS", tmp_path)
    monkeypatch.setattr(demo_count, "SUITES", {"bc-100": suite(BC_ONLY, 100, "g")})
    monkeypatch.setattr(demo_count, "DEMO_COUNT", "g")
    (tmp_path / "bc-100").mkdir()
    (tmp_path / "bc-100" / "eval.json").write_text('{"chosen": {"epoch": 10}}')
    result = CliRunner().invoke(demo_count.main, [])
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"Error: {tmp_path / 'bc-100' / 'eval.json'}: not a readable held-out")
    assert line.endswith("rerun python -m benchmarks.evaluate bc-100")
    assert [p.name for p in tmp_path.iterdir()] == ["bc-100"]
