"""Videos of episodes: encoding them atomically, and filming one test episode every N epochs of
training (``--video_interval``).

The filmed episode runs on an env of its own, in a process of its own, from a seed of its own,
through the one episode loop (:func:`herdemos.rollout.run_episodes`) with the deterministic test
actions, so filming draws nothing from training's random streams: a run with videos trains
number for number as one without.
"""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from herdemos.util import HerdemosError, atomic_write_named

if TYPE_CHECKING:
    from herdemos.env_info import EnvInfo
    from herdemos.environment import EnvMaker
    from herdemos.logger import ProgressLog
    from herdemos.policy import Policy

VIDEO_ROLE = 3
"""The filmed episode's role in its seed entropy ``(seed, VIDEO_ROLE)``; training, evaluation
and sampling use 0, 1 and 2 (:mod:`herdemos.assembly`)."""

FPS = 25


def write_video(path: str | Path, frames: list[np.ndarray], fps: int = FPS) -> None:
    """Encodes the frames atomically: a reader never finds half a video."""
    import imageio.v2 as imageio

    def encode(tmp: Path) -> None:
        with imageio.get_writer(tmp, fps=fps) as writer:
            for frame in frames:
                writer.append_data(frame)

    atomic_write_named(path, encode)


def frame_strip(frames: list[np.ndarray], n: int = 5) -> np.ndarray:
    """``n`` evenly spaced frames, first and last included, side by side in one picture."""
    picks = np.linspace(0, len(frames) - 1, n).round().astype(int)
    return np.concatenate([frames[i] for i in picks], axis=1)


class EpochVideos:
    """Films one deterministic test episode every ``interval`` epochs into
    ``videos/epoch-NNNN.mp4`` and shows five of its frames in TensorBoard's Images tab.

    The episode is filmed in a child process (``python -m herdemos.video``): with software
    OpenGL (Mesa's llvmpipe, what EGL and OSMesa use without a GPU) MuJoCo's renderer crashes the
    process TensorFlow runs in, and the policy acts in NumPy, so the child needs no TensorFlow.
    Where nothing can be filmed (no OpenGL library, an env that does not render) training goes
    on, and the reason is said once.

    Args:
        make: makes the run's envs; the child calls it with ``render_mode="rgb_array"``.
        info: the env's sizes and horizon.
        logdir: the run folder.
        interval: film every this many epochs (0: never).
        seed: the run's seed; the filmed episode is the same one at every epoch.
        log: where the one line goes when filming is impossible.
    """

    def __init__(
        self,
        make: EnvMaker,
        info: EnvInfo,
        logdir: Path,
        interval: int,
        seed: int,
        log: Callable[[str], None],
    ) -> None:
        self.make, self.info, self.interval, self.log = make, info, interval, log
        self.folder = Path(logdir) / "videos"
        self.episode_seed = int(np.random.SeedSequence((seed, VIDEO_ROLE)).generate_state(1)[0])
        self.unavailable: str | None = None

    def due(self, epoch: int) -> bool:
        return self.interval > 0 and self.unavailable is None and epoch % self.interval == 0

    def film(self, epoch: int, policy: Policy, step: int, progress: ProgressLog) -> Path | None:
        """Films epoch ``epoch``'s episode if one is due; returns the video, or None."""
        if not self.due(epoch):
            return None
        import cloudpickle  # a Gymnasium dependency; sends a factory defined in a script too

        path = self.folder / f"epoch-{epoch:04d}.mp4"
        job = (self.make, self.info, policy, self.episode_seed, str(path))
        try:
            data = cloudpickle.dumps(job)
        except Exception as e:  # noqa: BLE001  (whatever a factory's closure holds)
            return self._give_up(f"the env factory cannot be sent to the filming process ({e})")
        # The child imports what the parent can (a factory's module, the tests' envs).
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            done = subprocess.run(
                [sys.executable, "-m", "herdemos.video"],
                input=data,
                capture_output=True,
                env=env,
                timeout=FILM_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            return self._give_up(f"filming one episode took over {FILM_TIMEOUT} s")
        if done.returncode != 0:
            lines = done.stderr.decode(errors="replace").splitlines()
            ours = [line[len(MARK) :] for line in lines if line.startswith(MARK)]
            code = done.returncode
            crash = f"signal {-code}" if code < 0 else f"exit code {code}"
            return self._give_up(ours[-1] if ours else f"the filming process failed ({crash})")
        strip = np.load(io.BytesIO(done.stdout), allow_pickle=False)
        progress.add_image("video/test_episode", strip, step)
        return path

    def _give_up(self, reason: str) -> None:
        self.unavailable = reason
        self.log(f"no videos: {reason}; training goes on without them (--video_interval)")


FILM_TIMEOUT = 600
"""Seconds one filmed episode may take (software rendering of the longest stacking episodes
takes far less); a hung renderer must not stall training."""

MARK = "herdemos-video: "
"""Starts the child's one line of why it could not film, among whatever else it prints."""


def film_episode(
    make: EnvMaker, info: EnvInfo, policy: Policy, episode_seed: int, path: str
) -> np.ndarray:
    """Films the deterministic episode of ``episode_seed`` into ``path``; returns five of its
    frames side by side, at half size (for TensorBoard)."""
    from herdemos.rendering import choose_headless_backend
    from herdemos.rollout import PolicyActions, Step, run_episodes

    choose_headless_backend()
    env = make("rgb_array")
    frames: list[np.ndarray] = []

    def film(step: Step) -> None:
        try:
            frames.append(env.render())
        except NotImplementedError:
            raise HerdemosError(f"{make.name}: the env does not render") from None

    try:
        actions = PolicyActions.exploiting(policy)
        for _ in run_episodes(env, info, actions, episode_seed, 1, film):
            pass
    finally:
        env.close()
    first = frames[0] if frames else None
    if not isinstance(first, np.ndarray) or first.ndim != 3:
        raise ValueError(f"the env's render() returned {type(first).__name__}, not an RGB image")
    Path(path).parent.mkdir(exist_ok=True)
    write_video(path, frames)
    return frame_strip(frames)[::2, ::2]


def main() -> int:
    """``python -m herdemos.video``: films the job pickled on stdin by :class:`EpochVideos` (its
    own parent, so the pickle is trusted); the picture goes to stdout as ``.npy``."""
    job = pickle.loads(sys.stdin.buffer.read())
    try:
        strip = film_episode(*job)
    except Exception as e:  # noqa: BLE001  (GL backends and user envs fail in many ways)
        reason = f"{type(e).__name__}: {e}".splitlines()[0][:200]
        print(
            MARK + reason.removeprefix("HerdemosError: ").removeprefix("--video: "), file=sys.stderr
        )
        return 3
    np.save(sys.stdout.buffer, strip, allow_pickle=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
