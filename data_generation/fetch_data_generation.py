"""Generate demonstrations with a scripted controller.

python data_generation/fetch_data_generation.py --env FetchPickAndPlace-v4 --num_episodes 100
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import click

from herdemos.data_generation.controllers import DEFAULT_STYLE, STYLES
from herdemos.util import HerdemosError, check_output_file, os_error_line


def _finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """Refuses NaN and Inf, which ``FloatRange`` lets through (NaN compares false to any bound)
    and which would silently fill every demo action with NaN or clipped noise."""
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number")
    return value


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--env",
    default="FetchPickAndPlace-v4",
    show_default=True,
    help="Env with a scripted controller (FetchReach, FetchPush, FetchPickAndPlace, "
    "FetchSlide, and herdemos' own envs).",
)
@click.option(
    "--style",
    type=click.Choice(STYLES),
    default=DEFAULT_STYLE,
    show_default=True,
    help="Demonstrator: herdemos' own controllers, or one herdemos was not tuned to "
    "(FetchPickAndPlace and FetchPush): original (the original project's generator), "
    "cautious, human (human-like, with variable lengths and failures).",
)
@click.option(
    "--num_episodes",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Episodes to write.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Output .npz.  [default: demos/<env>_<scripted|style>_<N>ep_seed<S>[_noise<x>]"
    "[_miss<p>].npz]",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Env and noise seed."
)
@click.option(
    "--noise",
    type=click.FloatRange(min=0),
    callback=_finite,
    default=0.0,
    show_default=True,
    help="Gaussian action-noise std (fraction of max action): imperfect demos for "
    "Q-filter studies.",
)
@click.option(
    "--miss_prob",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Stacking envs: probability that a pick first closes the fingers too early on purpose "
    "and then recovers (re-opens and grasps again), so the demos show how to recover.",
)
@click.option(
    "--only_successful",
    is_flag=True,
    help="Keep only successful episodes (default: keep all, as the original did).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def main(
    env: str,
    style: str,
    num_episodes: int,
    out: str | None,
    seed: int,
    noise: float,
    miss_prob: float,
    only_successful: bool,
    quiet: bool,
) -> None:
    """Generate demonstration episodes for a goal env with its scripted controller."""
    from tqdm import tqdm

    from herdemos.data_generation.scripted_demos import default_demo_name, generate_demos

    path = (
        Path(out)
        if out
        else Path("demos") / default_demo_name(env, num_episodes, seed, noise, miss_prob, style)
    )
    if path.suffix != ".npz":
        raise click.BadParameter(f"{path}: the output must end in .npz", param_hint="--out")
    try:
        check_output_file(path, "--out")  # before minutes of rollouts, not after
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None
    start = time.perf_counter()
    bar = tqdm(total=num_episodes, unit="ep", disable=True if quiet else None, desc=env)

    def progress(kept: int, attempted: int) -> None:
        bar.update(kept - bar.n)
        bar.set_postfix(attempted=attempted)

    try:
        data = generate_demos(
            env, num_episodes, seed, noise, only_successful, progress, miss_prob, style
        )
        data.save(path)
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None
    except OSError as e:
        raise click.ClickException(os_error_line(e)) from None
    finally:
        bar.close()
    meta = data.metadata
    click.echo(
        f"{env}: {data.n_episodes} episodes in {time.perf_counter() - start:.1f}s | "
        f"success rate {meta['success_rate']:.2f} | mean return {meta['mean_return']:.1f} | "
        f"attempted {meta['attempted_episodes']}\nwrote {path}"
    )


if __name__ == "__main__":
    sys.exit(main())
