"""Shared pieces of benchmark results: where they live, provenance, curve summaries and plots."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from herdemos.util import HerdemosError, atomic_write, atomic_write_json

THRESHOLDS = (0.5, 0.8, 0.9, 0.95)

RESULTS = Path(__file__).resolve().parent / "results"
"""One folder per suite (and per comparison) below this, plus the generated README.md."""
RUNS = Path(__file__).resolve().parents[1] / "runs" / "benchmarks"
"""The runner's training runs, one folder per suite holding one per seed."""
TRAINING = "training.json"
"""A suite's training curves (every seed's test success per epoch) in its folder."""
EVALUATION = "eval.json"
"""A suite's held-out evaluation (benchmarks.evaluate) in its folder."""
FIGURE = "training.png"
"""A comparison's training curves in its group's folder."""


def analysis_path(policy_file: str | os.PathLike, file_name: str) -> Path:
    """Where an analysis of ``policy_file`` goes by default: the folder of the suite whose
    run folder (``runs/benchmarks/<suite>/``) holds the policy, else ``results/analysis/``.

    The folder is read from where the runner put the policy, never from a policy's name.
    """
    from benchmarks.suites import SUITES

    try:
        suite = Path(policy_file).resolve().relative_to(RUNS.resolve()).parts[0]
    except (ValueError, IndexError):
        suite = None
    return RESULTS / (suite if suite in SUITES else "analysis") / file_name


def first_reach(x: np.ndarray, y: np.ndarray, threshold: float) -> float | None:
    hits = np.flatnonzero(y >= threshold)
    return float(x[hits[0]]) if hits.size else None


WINDOW_EPOCHS = 10
"""Epochs per window of :func:`window_means`: one epoch's 10 test episodes are too few to tell
0.7 from 0.95, ten epochs' 100 episodes are not."""


def seed_mean_curve(runs: list[dict[str, list[float]]]) -> np.ndarray:
    """The seed-mean test success per epoch, truncated to the shortest run."""
    n = min(len(r["success"]) for r in runs)
    return np.mean([r["success"][:n] for r in runs], axis=0)


def window_means(success: np.ndarray, window: int = WINDOW_EPOCHS) -> tuple[float, float]:
    """``(best, last)`` mean success over ``window`` consecutive epochs (the whole curve if it
    is shorter)."""
    window = min(window, len(success))
    sums = np.convolve(success, np.ones(window), mode="valid") / window
    return float(sums.max()), float(sums[-1])


def summarize(runs: list[dict[str, list[float]]]) -> dict[str, Any]:
    """Summary of a group of seeds: the seed-mean success curve, truncated to the shortest run.

    Returns ``final_success``, ``best_success``, the best and last 10-epoch means, and
    ``env_steps_to`` / ``minutes_to`` keyed by threshold (null where the mean curve never got
    there; a single noisy epoch counts, so read them with the window means).
    """
    success = seed_mean_curve(runs)
    n = len(success)
    best_window, last_window = window_means(success)
    steps = np.array(runs[0]["env_steps"][:n])
    minutes = np.mean([r["minutes"][:n] for r in runs], axis=0)
    return {
        "final_success": float(success[-1]),
        "best_success": float(success.max()),
        "best_10_epoch_mean": best_window,
        "last_10_epoch_mean": last_window,
        "epochs": int(n),
        "env_steps": int(steps[-1]),
        "minutes": float(minutes[-1]),
        "env_steps_to": {f"{t}": first_reach(steps, success, t) for t in THRESHOLDS},
        "minutes_to": {f"{t}": first_reach(minutes, success, t) for t in THRESHOLDS},
    }


def write_training_results(folder: Path, name: str, payload: dict[str, Any]) -> Path:
    """Writes suite ``name``'s training results into its folder under ``folder`` and returns
    the file."""
    path = folder / name / TRAINING
    atomic_write_json(path, payload)
    return path


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None if there is no such file.

    Raises:
        HerdemosError: the file exists but holds no readable JSON object.
    """
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise HerdemosError(f"{path}: not readable JSON ({type(e).__name__}: {e})") from None
    if not isinstance(data, dict):
        raise HerdemosError(f"{path}: not a JSON object")
    return data


def load_training_results(folder: Path, names: list[str]) -> dict[str, dict[str, Any]]:
    """``{suite: training results}`` of those ``names`` whose folder under ``folder`` holds
    any."""
    found = {name: read_json(folder / name / TRAINING) for name in names}
    return {name: data for name, data in found.items() if data is not None}


def run_summary(data: dict[str, Any]) -> dict[str, Any]:
    """The seed-mean summary of a training results file (keyed there by the suite's name at
    the time it ran, which may be an older name)."""
    return next(iter(data["summary"].values()))


LONG_RUN_EPOCHS = 50
"""Curves with at least this many epochs are drawn as a moving average (raw line faint)."""

SMOOTHING_EPOCHS = 10
"""Moving-average window (epochs): test success from 10 episodes per epoch is very noisy."""

LEGEND_WIDTH = 85
"""Characters per legend line: two columns of this fit the 12-inch figure at font size 8."""


def save_figure(fig, out: Path) -> None:
    """Writes a matplotlib figure through a temporary file renamed into place, so an interrupted
    or failed save never leaves a truncated image where the last good figure was. Writing to a
    file object, matplotlib cannot guess the format from the name: it is taken from the suffix.

    Raises:
        HerdemosError: the file cannot be written, as one line naming it.
    """
    image_format = out.suffix.lstrip(".") or "png"
    atomic_write(out, lambda f: fig.savefig(f, format=image_format, dpi=110))


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over up to ``window`` epochs (shorter at the start), same length as input."""
    sums = np.cumsum(np.insert(np.asarray(values, dtype=float), 0, 0.0))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def plot_training_results(
    results: dict[str, dict[str, Any]],
    out: Path,
    title: str,
    references: tuple[tuple[str, float, float], ...] = (),
    labels: dict[str, str] | None = None,
) -> None:
    """Success against env steps (log scale when reported reference points far to the right must
    fit) and against wall-clock minutes; seed mean with a min-max band. ``labels`` name each
    suite's method in the legend (default: the label its results file recorded)."""
    labels = labels or {}
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 5.5))
    for name, data in results.items():
        runs = list(data["runs"].values())
        n = min(len(r["success"]) for r in runs)
        success = np.array([r["success"][:n] for r in runs])
        steps = np.array(runs[0]["env_steps"][:n]) / 1000
        minutes = np.mean([r["minutes"][:n] for r in runs], axis=0)
        seeds = f"{len(runs)} seed" + ("s" if len(runs) > 1 else "")
        label = f"{name}: {labels.get(name, data.get('label', name))} ({seeds})"
        mean = success.mean(0)
        smooth = n >= LONG_RUN_EPOCHS  # long noisy curves: a moving average over the raw line
        if smooth:
            label += f", {SMOOTHING_EPOCHS}-epoch moving average"
        for ax, x in ((axes[0], steps), (axes[1], minutes)):
            if smooth:
                (line,) = ax.plot(x, moving_average(mean, SMOOTHING_EPOCHS), label=label, lw=2)
                ax.plot(x, mean, color=line.get_color(), alpha=0.25, lw=0.8)
            else:
                (line,) = ax.plot(x, mean, label=label)
            ax.fill_between(x, success.min(0), success.max(0), alpha=0.15, color=line.get_color())
    for (label, steps, success), marker in zip(references, "*X", strict=False):
        axes[0].scatter(
            [steps / 1000], [success], marker=marker, s=110, c="black", zorder=5, label=label
        )
    if references:
        from matplotlib.ticker import FuncFormatter, NullFormatter

        axes[0].set_xscale("log")
        axes[0].xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axes[0].xaxis.set_minor_formatter(NullFormatter())
    for ax, xlabel in (
        (axes[0], "env steps (thousands" + (", log scale)" if references else ")")),
        (axes[1], "wall-clock minutes"),
    ):
        ax.set_xlabel(xlabel)
        ax.set_ylabel("test success rate")
        ax.set_ylim(-0.02, 1.02)
        ax.axhline(0.95, color="grey", lw=0.8, ls="--")
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    # Suite descriptions are long: wrap them so two columns fit the figure's width.
    labels = ["\n".join(textwrap.wrap(label, LEGEND_WIDTH)) for label in labels]
    fig.legend(handles, labels, fontsize=8, loc="lower center", ncol=2, frameon=False)
    fig.suptitle(title)
    lines = [label.count("\n") + 1 for label in labels]
    text_lines = sum(max(lines[i : i + 2]) for i in range(0, len(lines), 2))
    fig.tight_layout(rect=(0, 0.028 * text_lines + 0.02, 1, 1))
    try:
        save_figure(fig, out)
    finally:
        plt.close(fig)
