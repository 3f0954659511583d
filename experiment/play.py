"""Run a trained policy: measure it, watch it, or film it.

python experiment/play.py runs/.../policy_best.pkl --n_test_rollouts 10
python experiment/play.py policy_best.pkl --video pickplace.mp4
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import numpy as np

from herdemos.util import HerdemosError, check_output_file, os_error_line


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
    help="Write a .png of 5 evenly spaced frames of the first episode, side by side.",
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
    env: str | None,
    fps: int,
) -> None:
    """Run POLICY_FILE deterministically; print success rate, mean return and mean Q."""
    try:
        play(policy_file, n_test_rollouts, seed, render, video, strip, env, fps)
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
    env_override: str | None,
    fps: int,
) -> None:
    from herdemos.policy import load_policy
    from herdemos.rendering import choose_headless_backend, has_display

    policy = load_policy(policy_file)
    if render and (video or strip):
        raise HerdemosError("--render and --video/--strip: choose one")
    if strip and Path(strip).suffix.lower() != ".png":
        raise HerdemosError(f"--strip {strip}: use a .png file name")
    for flag, path in (("--video", video), ("--strip", strip)):
        if path:
            check_output_file(path, flag)  # before the episodes, not after them
    if env_override is not None and not env_override.strip():
        raise HerdemosError("--env '': give an env id, or leave --env out to use the policy's")
    if render and not has_display():
        raise HerdemosError("--render: no display found (DISPLAY is unset); use --video out.mp4")
    if video and Path(video).suffix.lower() not in (".mp4", ".gif", ".mkv", ".avi"):
        raise HerdemosError(f"--video {video}: use a .mp4 (or .gif) file name")
    filming = bool(video or strip)
    if filming:
        backend = choose_headless_backend()
        click.echo(f"rendering headless with MUJOCO_GL={backend}")

    from tqdm import tqdm

    from herdemos.environment import env_for_policy

    render_mode = "human" if render else "rgb_array" if filming else None
    env_id, env, info = env_for_policy(policy, policy_file, env_override, render_mode)
    frames: list[np.ndarray] = []
    first_episode_frames = 0
    successes, returns, qs = [], [], []
    for episode in tqdm(range(n_episodes), unit="ep", disable=None, leave=False):
        obs, _ = env.reset(seed=seed + episode)
        total, info_step = 0.0, {}
        for _ in range(info.horizon):
            action = policy.act(obs)
            qs.append(float(policy.q_value(obs["observation"], obs["desired_goal"], action)[0]))
            obs, reward, _, _, info_step = env.step(action)
            total += float(reward)
            if video or (strip and episode == 0):
                frames.append(render_frame(env))
        first_episode_frames = first_episode_frames or len(frames)
        successes.append(float(info_step.get("is_success", 0.0)))
        returns.append(total)
    env.close()
    click.echo(
        f"{env_id}: {n_episodes} episodes | success rate {np.mean(successes):.2f} | "
        f"mean return {np.mean(returns):.1f} | mean Q {np.mean(qs):.2f}"
    )
    if video:
        write_video(video, frames, fps)
        click.echo(f"wrote {video} ({len(frames)} frames)")
    if strip:
        write_strip(strip, frames[:first_episode_frames])
        click.echo(f"wrote {strip} (episode seed {seed}, success {successes[0]:.0f})")


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


def write_video(path: str, frames: list[np.ndarray], fps: int) -> None:
    """Encodes frames to a temporary file, then renames it into place (never a half video)."""
    import imageio.v2 as imageio

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp{out.suffix}")
    try:
        with imageio.get_writer(tmp, fps=fps) as writer:
            for frame in frames:
                writer.append_data(frame)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


STRIP_FRAMES = 5
"""Frames in a ``--strip`` picture: the start, the end, and three evenly spaced in between."""


def write_strip(path: str, frames: list[np.ndarray]) -> None:
    """Writes evenly spaced frames side by side as one PNG (temp file, then rename)."""
    import imageio.v2 as imageio

    picks = np.linspace(0, len(frames) - 1, STRIP_FRAMES).round().astype(int)
    picture = np.concatenate([frames[i] for i in picks], axis=1)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp.png")
    try:
        imageio.imwrite(tmp, picture)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
