"""Plot training curves of one or more runs, grouped by method across seeds.

python experiment/plot.py runs/ --out curves.png
"""

from __future__ import annotations

import csv
import math
import sys
from collections import defaultdict
from pathlib import Path

import click
import numpy as np

from herdemos.bounded_files import read_json_file
from herdemos.config import Config
from herdemos.logger import read_progress
from herdemos.methods import method_label
from herdemos.util import HerdemosError, atomic_write, check_output_file

METRICS = (("test/success_rate", "test success rate"), ("test/mean_Q", "test mean Q"))
X_AXES = (("epoch", "epoch"), ("total_env_steps", "env steps"))


def find_runs(paths: tuple[str, ...]) -> list[Path]:
    """Every folder holding a ``progress.csv`` at or below the given paths."""
    runs: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise click.ClickException(f"{p}: no such folder")
        found = (
            [p] if (p / "progress.csv").exists() else [c.parent for c in p.rglob("progress.csv")]
        )
        if not found:
            raise click.ClickException(f"{p}: no progress.csv at or below this folder")
        runs += sorted(found)
    return runs


def load_run(run: Path) -> tuple[str, str, list[dict[str, float]]] | str:
    """``(env, label, rows)`` or a one-line reason why the run is skipped."""
    try:
        rows = read_progress(run / "progress.csv")
    except (OSError, ValueError, UnicodeDecodeError, csv.Error) as e:
        return f"{run / 'progress.csv'}: unreadable ({e})"
    if not rows:
        return f"{run / 'progress.csv'}: no epochs logged yet"
    needed = {"epoch", "total_env_steps", "test/success_rate"}
    if not needed <= set(rows[0]):
        return f"{run / 'progress.csv'}: missing columns {sorted(needed - set(rows[0]))}"
    try:  # checked, so that a damaged file only loses the legend's details
        config = Config.from_dict(read_json_file(run / "params.json"))
        env = config.train.env
    except (OSError, ValueError, UnicodeDecodeError):
        config, env = Config(), "unknown env"
    return env, method_label(config), rows


def band(curves: list[np.ndarray], stat: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre and spread over seeds, truncated to the shortest run (runs may be in progress)."""
    n = min(len(c) for c in curves)
    stack = np.stack([c[:n] for c in curves])
    if stat == "median":
        return np.median(stack, 0), np.percentile(stack, 25, 0), np.percentile(stack, 75, 0)
    mean, std = stack.mean(0), stack.std(0)
    return mean, mean - std, mean + std


def smooth(y: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(y) < window:
        return y
    kernel = np.ones(window) / window
    padded = np.concatenate([np.full(window - 1, y[0]), y])
    return np.convolve(padded, kernel, mode="valid")


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("logdirs", nargs=-1, required=True, type=click.Path())
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default="curves.png",
    show_default=True,
    help="Output PNG.",
)
@click.option(
    "--stat",
    type=click.Choice(["median", "mean"]),
    default="median",
    show_default=True,
    help="Centre line across seeds; the band is the IQR (median) or +-1 std (mean).",
)
@click.option(
    "--smooth",
    "window",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Moving-average window in epochs.",
)
@click.option("--title", default=None, help="Figure title.  [default: the env id]")
def main(logdirs: tuple[str, ...], out: str, stat: str, window: int, title: str | None) -> None:
    """Plot test success and mean Q against epochs and env steps for the runs in LOGDIRS.

    Runs with the same env and method (read from params.json) are grouped across seeds.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if Path(out).suffix.lower() not in (".png", ".pdf", ".svg", ".jpg"):
        raise click.BadParameter(f"{out}: use a .png, .pdf, .svg or .jpg file", param_hint="--out")
    try:
        check_output_file(out, "--out")
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None
    groups: dict[tuple[str, str], list[list[dict[str, float]]]] = defaultdict(list)
    for run in find_runs(logdirs):
        loaded = load_run(run)
        if isinstance(loaded, str):
            click.echo(f"skipping {loaded}", err=True)
            continue
        env, label, rows = loaded
        groups[(env, label)].append(rows)
    if not groups:
        raise click.ClickException("no run has any logged epoch to plot")

    fig, axes = plt.subplots(len(METRICS), len(X_AXES), figsize=(12, 7.5), squeeze=False)
    for (env, label), runs in sorted(groups.items()):
        name = f"{label} (n={len(runs)})" if len({e for e, _ in groups}) == 1 else f"{env}: {label}"
        for row_i, (metric, metric_name) in enumerate(METRICS):
            curves = [np.array([r.get(metric, math.nan) for r in rows]) for rows in runs]
            centre, low, high = band([smooth(c, window) for c in curves], stat)
            for col_i, (x_key, x_name) in enumerate(X_AXES):
                x = np.array([r[x_key] for r in runs[0]][: len(centre)])
                ax = axes[row_i][col_i]
                (line,) = ax.plot(x, centre, label=name)
                if len(runs) > 1:
                    ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2)
                ax.set_xlabel(x_name)
                ax.set_ylabel(metric_name)
                ax.grid(alpha=0.3)
    for ax in axes[0]:
        ax.set_ylim(-0.02, 1.02)
    axes[0][0].legend(loc="best", fontsize=9)
    envs = sorted({env for env, _ in groups})
    fig.suptitle(title or ", ".join(envs))
    fig.tight_layout()
    image_format = Path(out).suffix.lower().lstrip(".")
    try:  # a reader never sees a half-written figure
        atomic_write(out, lambda f: fig.savefig(f, dpi=110, format=image_format))
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None
    finally:
        plt.close(fig)
    click.echo(f"wrote {out} ({sum(len(r) for r in groups.values())} runs, {len(groups)} groups)")


if __name__ == "__main__":
    sys.exit(main())
