"""How many demonstrations does Stack3 need? Held-out success against the number of demos.

python -m benchmarks.demo_count

Reads the held-out evaluations (``benchmarks/results/<suite>/eval.json``, written by
``python -m benchmarks.evaluate SUITE``) of the suites of the demo-count group (declared in
``benchmarks/suites/stacking.py``), which differ only in their demos, and draws each method's
success on fresh episodes (with its 95% interval) against the demo count; suites that add the
demos' mirror images (``--demo_mirror 1``) are stars in their method's colour. One picture
answers whether a method's shortfall is the learner's or the data's. Suites without an
evaluation yet are left out and named. Writes ``demo-count.json`` and ``.png`` into the
group's folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from benchmarks.report import EVALUATION, RESULTS, save_figure
from benchmarks.suites import SUITES, Suite
from benchmarks.suites.stacking import DEMO_COUNT
from herdemos.methods import method_of
from herdemos.provenance import provenance
from herdemos.util import HerdemosError, atomic_write_json

STEM = "demo-count"
MIRROR_SUFFIX = ", 100 demos + mirror images"


def group_suites(suites: dict[str, Suite], group: str) -> dict[str, Suite]:
    """The suites of ``group``, in declaration order."""
    return {name: suite for name, suite in suites.items() if suite.group == group}


def series_of(suite: Suite) -> str:
    """The series a suite's point belongs to: its method, and whether it adds mirror images."""
    config = suite.config
    return method_of(config).label + (MIRROR_SUFFIX if config.demo.demo_mirror else "")


def collect(results: Path, suites: dict[str, Suite]) -> tuple[dict[str, list[dict]], list[str]]:
    """``({series: [point, ...]}, [suites without an evaluation])`` for ``suites``; a point
    holds the demo count, the suite, the chosen policy's epoch and its held-out success with
    the interval. Series are in declaration order, points by demo count."""
    series: dict[str, list[dict]] = {}
    missing = []
    for suite_name, suite in suites.items():
        path = results / suite_name / EVALUATION
        if not path.exists():
            missing.append(suite_name)
            continue
        try:
            data = json.loads(path.read_text())
            report = data["report"]
            point = {
                "demos": suite.demo_episodes,
                "suite": suite_name,
                "epoch": data["chosen"]["epoch"],
            }
            point |= {k: report[k] for k in ("episodes", "success_rate", "ci95")}
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise HerdemosError(
                f"{path}: not a readable held-out evaluation ({type(e).__name__}: {e}); "
                f"rerun python -m benchmarks.evaluate {suite_name}"
            ) from None
        series.setdefault(series_of(suite), []).append(point)
    return {k: sorted(v, key=lambda p: p["demos"]) for k, v in series.items()}, missing


def plot(series: dict[str, list[dict]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.0, 5.6))
    methods = list(dict.fromkeys(m.removesuffix(MIRROR_SUFFIX) for m in series))
    colours = {method: f"C{i}" for i, method in enumerate(methods)}
    offsets = dict(zip(methods, (0.97, 1.0, 1.03, 0.94, 1.06), strict=False))
    for method, points in series.items():
        base = method.removesuffix(MIRROR_SUFFIX)
        mirrored = base != method
        # side by side where counts coincide; the stars just right of the plain points
        x = [p["demos"] * offsets[base] * (1.08 if mirrored else 1.0) for p in points]
        y = [p["success_rate"] for p in points]
        low = [p["success_rate"] - p["ci95"][0] for p in points]
        high = [p["ci95"][1] - p["success_rate"] for p in points]
        style = (
            {"marker": "*", "markersize": 12, "linestyle": "none"} if mirrored else {"marker": "o"}
        )
        ax.errorbar(x, y, yerr=[low, high], capsize=4, color=colours[base], label=method, **style)
    ax.axhline(0.9, color="grey", linestyle=":", label="issue #7 target (0.9)")
    ax.set_xscale("log")
    counts = sorted({p["demos"] for points in series.values() for p in points})
    ax.set_xticks(counts, [str(c) for c in counts])
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("scripted demos (action noise 0.1)")
    ax.set_ylabel("success on fresh episodes (95% CI)")
    ax.set_title("FetchStack3-Step-v1: held-out success by demo count")
    ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    fig.subplots_adjust(bottom=0.33)  # room for the legend under the axes, off the points
    ax.grid(alpha=0.3)
    save_figure(fig, out)
    plt.close(fig)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Plot Stack3's held-out success against the number of demos (see the module docstring)."""
    folder = RESULTS / DEMO_COUNT
    try:
        series, missing = collect(RESULTS, group_suites(SUITES, DEMO_COUNT))
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None
    if not series:
        raise click.ClickException(
            f"no held-out evaluation of any demo-count suite in {RESULTS}; run "
            "python -m benchmarks.evaluate SUITE first"
        )
    for suite in missing:
        click.echo(f"left out {suite}: no {suite}/{EVALUATION} yet")
    payload = {
        "series": series,
        "left_out": missing,
        **provenance(["python", "-m", "benchmarks.demo_count"]),
    }
    atomic_write_json(folder / f"{STEM}.json", payload)
    plot(series, folder / f"{STEM}.png")
    click.echo(f"wrote {folder / STEM}.json and .png")


if __name__ == "__main__":
    main()
