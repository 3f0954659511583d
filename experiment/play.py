"""Run a trained policy: measure it, watch it, or film it.

python experiment/play.py runs/.../policy_best.pkl --n_test_rollouts 10
python experiment/play.py policy_best.pkl --video pickplace.mp4
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click
import numpy as np

from herdemos.util import HerdemosError, atomic_write, check_output_file, os_error_line
from herdemos.video import frame_strip, write_video


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("policy_file", type=click.Path(dir_okay=False))
@click.option(
    "--n_test_rollouts",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Episodes to run.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="First episode's env seed.",
)
@click.option("--render", is_flag=True, help="Show a live viewer window (needs a display).")
@click.option(
    "--video",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write an .mp4 of all episodes, rendered headless (EGL or OSMesa).",
)
@click.option(
    "--strip",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write a .png of 5 evenly spaced frames of one episode, side by side: the first "
    "successful one, or the one --strip_seed names.",
)
@click.option(
    "--strip_seed",
    type=click.IntRange(min=0),
    default=None,
    help="Film the episode of this env seed for --strip, success or not.  [default: the first "
    "successful episode from --seed on, trying up to 50 seeds]",
)
@click.option("--env", default=None, help="Override the env id stored in the policy file.")
@click.option(
    "--fps", type=click.IntRange(min=1), default=25, show_default=True, help="Video frame rate."
)
def main(
    policy_file: str,
    n_test_rollouts: int,
    seed: int,
    render: bool,
    video: str | None,
    strip: str | None,
    strip_seed: int | None,
    env: str | None,
    fps: int,
) -> None:
    """Run POLICY_FILE deterministically; print success rate, mean return and mean Q."""
    try:
        play(policy_file, n_test_rollouts, seed, render, video, strip, strip_seed, env, fps)
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None
    except OSError as e:
        raise click.ClickException(os_error_line(e)) from None


def play(
    policy_file: str,
    n_episodes: int,
    seed: int,
    render: bool,
    video: str | None,
    strip: str | None,
    strip_seed: int | None,
    env_override: str | None,
    fps: int,
) -> None:
    from herdemos.policy import load_policy
    from herdemos.rendering import check_forced_backend, choose_headless_backend, has_display

    policy = load_policy(policy_file)
    if render and (video or strip):
        raise HerdemosError("--render and --video/--strip: choose one")
    if strip and Path(strip).suffix.lower() != ".png":
        raise HerdemosError(f"--strip {strip}: use a .png file name")
    if strip_seed is not None and not strip:
        raise HerdemosError(f"--strip_seed {strip_seed}: give --strip too (the picture to write)")
    for flag, path in (("--video", video), ("--strip", strip)):
        if path:
            check_output_file(path, flag)  # before the episodes, not after them
    if env_override is not None and not env_override.strip():
        raise HerdemosError("--env '': give an env id, or leave --env out to use the policy's")
    if render and not has_display():
        raise HerdemosError("--render: no display found (DISPLAY is unset); use --video out.mp4")
    if video and Path(video).suffix.lower() not in (".mp4", ".gif", ".mkv", ".avi"):
        raise HerdemosError(f"--video {video}: use a .mp4 (or .gif) file name")
    check_forced_backend()
    filming = bool(video or strip)
    if filming:
        backend = choose_headless_backend()
        click.echo(f"rendering headless with MUJOCO_GL={backend}")

    from tqdm import tqdm

    from herdemos.policy_env import env_for_policy
    from herdemos.rollout import PolicyActions, Step, run_episodes

    render_mode = "human" if render else "rgb_array" if filming else None
    env_id, env, info = env_for_policy(policy, policy_file, env_override, render_mode)
    actions = PolicyActions.exploiting(policy)
    frames: list[np.ndarray] = []
    returns: list[float] = []
    qs: list[float] = []

    def watch(step: Step) -> None:
        o, g = step.obs["observation"], step.obs["desired_goal"]
        qs.append(float(policy.q_value(o, g, step.u)[0]))
        if step.t == 0:
            returns.append(0.0)
        returns[-1] += float(step.rewards[0])
        if video:
            frames.append(render_frame(step.envs[0]))

    episodes = run_episodes(env, info, actions, seed, n_episodes, watch)
    successes = [
        bool(r.episodes["info_is_success"][0, -1, 0])
        for r in tqdm(episodes, total=n_episodes, unit="ep", disable=None, leave=False)
    ]
    click.echo(
        f"{env_id}: {n_episodes} episodes | success rate {np.mean(successes):.2f} | "
        f"mean return {np.mean(returns):.1f} | mean Q {np.mean(qs):.2f}"
    )
    if video:
        write_video(video, frames, fps)
        click.echo(f"wrote {video} ({len(frames)} frames)")
    if strip:
        chosen = strip_seed
        if chosen is None:

            def succeeds(episode_seed: int) -> bool:
                (rollout,) = run_episodes(env, info, actions, episode_seed, 1)
                return bool(rollout.episodes["info_is_success"][0, -1, 0])

            chosen = first_successful_seed(seed, successes, succeeds)
            if chosen is None:
                chosen = seed
                click.echo(
                    f"no episode of seeds {seed}-{seed + STRIP_SEARCH - 1} succeeded; "
                    f"filming seed {seed}, a failure"
                )
        strip_frames: list[np.ndarray] = []
        (filmed,) = run_episodes(
            env, info, actions, chosen, 1, lambda step: strip_frames.append(render_frame(env))
        )
        write_strip(strip, strip_frames)
        success = filmed.episodes["info_is_success"][0, -1, 0]
        click.echo(f"wrote {strip} (episode seed {chosen}, success {success:.0f})")
    env.close()


STRIP_SEARCH = 50
"""Seeds tried, from ``--seed`` on, for a successful episode to film with ``--strip``: enough
for any policy worth filming, and a bound on the time a hopeless one costs."""


def first_successful_seed(
    first_seed: int, played: list[bool], succeeds: Callable[[int], bool]
) -> int | None:
    """The first seed from ``first_seed`` on whose episode succeeds, among the ``played``
    results (seeds ``first_seed``, ``first_seed + 1``, ...) and then new episodes run with
    ``succeeds``, up to :data:`STRIP_SEARCH` seeds in all; None if none did."""
    for i in range(STRIP_SEARCH):
        won = played[i] if i < len(played) else succeeds(first_seed + i)
        if won:
            return first_seed + i
    return None


def render_frame(env) -> np.ndarray:
    """One RGB frame; a broken OpenGL setup becomes a one-line error, not a traceback."""
    import os

    try:
        return env.render()
    except Exception as e:  # GL backends fail with many error types (EGL, OSMesa, GLFW ...)
        backend = os.environ.get("MUJOCO_GL", "?")
        raise HerdemosError(
            f"--video: headless rendering with MUJOCO_GL={backend} failed ({type(e).__name__}: "
            f"{e}); install libegl1 + libegl-mesa0 or libosmesa6, or try MUJOCO_GL=osmesa"
        ) from None


STRIP_FRAMES = 5
"""Frames in a ``--strip`` picture: the start, the end, and three evenly spaced in between."""


def write_strip(path: str, frames: list[np.ndarray]) -> None:
    """Writes evenly spaced frames side by side as one PNG, atomically."""
    import imageio.v3 as iio

    picture = frame_strip(frames, STRIP_FRAMES)
    png = iio.imwrite("<bytes>", picture, extension=".png")
    atomic_write(path, lambda f: f.write(png))


if __name__ == "__main__":
    sys.exit(main())
