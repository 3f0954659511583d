"""The evaluation figure: each checkpoint's selection success with its 95% interval, over the
training log's curve, and the chosen policy's report result."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.report import moving_average, save_figure


def chosen_name(chosen: dict) -> str:
    """'epoch 200' or 'mean of epochs 200-290' for the chosen candidate's entry."""
    if "averaged_epochs" in chosen:
        return f"mean of epochs {chosen['averaged_epochs'][0]}-{chosen['averaged_epochs'][-1]}"
    return f"epoch {chosen['epoch']}"


def rates_with_error_bars(entries: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Success rates of ``rate_entry`` dicts and their 95% intervals as matplotlib's ``yerr``
    (distances below and above each rate)."""
    rate = np.array([e["success_rate"] for e in entries])
    bounds = np.array([e["ci95"] for e in entries])
    return rate, np.maximum(np.stack([rate - bounds[:, 0], bounds[:, 1] - rate]), 0.0)


def plot_evaluation(payload: dict, training: dict | None, out: Path) -> None:
    """Selection success per checkpoint (95% intervals) against env steps, over the 10-epoch
    moving average of the training log's 10-episode test success, and the report result."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    if training:
        for seed, run in training["runs"].items():
            steps = np.array(run["env_steps"]) / 1000
            smooth = moving_average(np.array(run["success"]), 10)
            ax.plot(
                steps,
                smooth,
                color="grey",
                lw=1,
                label=f"training log {seed}: 10 ep/epoch, 10-epoch mean",
            )
    points = payload["checkpoints"]
    steps = np.array([p["env_steps"] for p in points]) / 1000
    n = points[0]["episodes"]
    ax.errorbar(
        steps,
        *rates_with_error_bars(points),
        fmt="o",
        ms=4,
        capsize=2,
        label=f"checkpoint, {n} selection episodes (95% CI)",
    )
    for average in payload.get("averages", []):
        first, last = average["averaged_epochs"][0], average["averaged_epochs"][-1]
        ax.errorbar(
            [average["env_steps"] / 1000],
            *rates_with_error_bars([average]),
            fmt="D",
            ms=7,
            capsize=2,
            color="tab:orange",
            label=f"mean of the checkpoints of epochs {first}-{last}, same episodes",
        )
    chosen, report = payload["chosen"], payload["report"]
    ax.errorbar(
        [chosen["env_steps"] / 1000],
        *rates_with_error_bars([report]),
        fmt="*",
        ms=14,
        color="black",
        capsize=3,
        label=f"chosen ({chosen_name(chosen)}), {report['episodes']} fresh episodes: "
        f"{report['success_rate']:.2f}",
    )
    ax.axhline(0.95, color="grey", lw=0.8, ls="--")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("env steps (thousands)")
    ax.set_ylabel("success rate")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(f"{payload['env']}: held-out evaluation of {payload['suite']}")
    fig.tight_layout()
    try:
        save_figure(fig, out)
    finally:
        plt.close(fig)
