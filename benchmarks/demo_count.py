"""How many demonstrations does Stack3 need? Held-out success against the number of demos.

python -m benchmarks.demo_count

Reads the held-out evaluations (``benchmarks/results/<suite>-eval.json``, written by
``python -m benchmarks.evaluate SUITE``) of the Stack3 suites that differ only in how many
scripted demos they load, and draws each method's success on fresh episodes (with its 95%
interval) against the demo count, and as stars the same methods with 100 demos and their mirror
images (``--demo_mirror 1``). One picture answers what the stacking table spreads over many
rows: whether a method's shortfall is the learner's or the data's. Suites without an evaluation
yet are left out and named. Writes ``stack3-demo-count.json`` and ``.png``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from benchmarks.report import provenance, save_figure
from herdemos.util import HerdemosError, atomic_write_json

RESULTS = Path(__file__).resolve().parent / "results"
STEM = "stack3-demo-count"

# Each method's suites by demo count: same env (FetchStack3-Step-v1), demo noise 0.1, settings.
SERIES: dict[str, dict[int, str]] = {
    "BC alone": {
        100: "stack3v1-step-bc",
        300: "stack3v1-step-bc-300demos",
        1000: "stack3v1-step-bc-1000demos",
    },
    "BC + Q-filter (the method), demo resets 0.5": {
        100: "stack3v1-step-tuned-noisy0.1-resets0.5",
        300: "stack3v1-step-tuned-noisy0.1-resets0.5-300demos",
        1000: "stack3v1-step-tuned-noisy0.1-resets0.5-1000demos",
    },
    "BC without the Q-filter, demo resets 0.5": {
        300: "stack3v1-step-tuned-noisy0.1-resets0.5-noqfilter-300demos",
        1000: "stack3v1-step-tuned-noisy0.1-resets0.5-noqfilter-1000demos",
    },
}
# The same methods with 100 demos and their mirror images (--demo_mirror 1: 800 episodes in R_D),
# drawn as stars at 100 in the colour of their method.
MIRRORED: dict[str, str] = {
    "BC alone": "stack3v1-step-bc-mirror",
    "BC + Q-filter (the method), demo resets 0.5": "stack3v1-step-tuned-noisy0.1-resets0.5-mirror",
    "BC without the Q-filter, demo resets 0.5": (
        "stack3v1-step-tuned-noisy0.1-resets0.5-noqfilter-mirror"
    ),
}
MIRROR_SUFFIX = ", 100 demos + mirror images"


def collect(results: Path) -> tuple[dict[str, list[dict]], list[str]]:
    """``({method: [point, ...]}, [suites without an evaluation])``; a point holds the demo
    count, the suite, the chosen policy's epoch and its held-out success with the interval."""
    series, missing = {}, []
    mirrored = {method + MIRROR_SUFFIX: {100: suite} for method, suite in MIRRORED.items()}
    for method, suites in {**SERIES, **mirrored}.items():
        points = []
        for demos, suite in sorted(suites.items()):
            path = results / f"{suite}-eval.json"
            if not path.exists():
                missing.append(suite)
                continue
            try:
                data = json.loads(path.read_text())
                report = data["report"]
                point = {"demos": demos, "suite": suite, "epoch": data["chosen"]["epoch"]}
                point |= {k: report[k] for k in ("episodes", "success_rate", "ci95")}
            except (OSError, ValueError, KeyError, TypeError) as e:
                raise HerdemosError(
                    f"{path}: not a readable held-out evaluation ({type(e).__name__}: {e}); "
                    f"rerun python -m benchmarks.evaluate {suite}"
                ) from None
            points.append(point)
        if points:
            series[method] = points
    return series, missing


def plot(series: dict[str, list[dict]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.0, 5.6))
    colours = {method: f"C{i}" for i, method in enumerate(SERIES)}
    offsets = dict(zip(SERIES, (0.97, 1.0, 1.03, 0.94, 1.06), strict=False))
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
    try:
        series, missing = collect(RESULTS)
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None
    if not series:
        raise click.ClickException(
            f"no held-out evaluation of any demo-count suite in {RESULTS}; run "
            "python -m benchmarks.evaluate SUITE first"
        )
    for suite in missing:
        click.echo(f"left out {suite}: no {suite}-eval.json yet")
    payload = {
        "series": series,
        "left_out": missing,
        **provenance(["python", "-m", "benchmarks.demo_count"]),
    }
    atomic_write_json(RESULTS / f"{STEM}.json", payload)
    plot(series, RESULTS / f"{STEM}.png")
    click.echo(f"wrote {RESULTS / STEM}.json and .png")


if __name__ == "__main__":
    main()
