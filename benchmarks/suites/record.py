"""What a benchmark suite is: a small record of a task, its train.py flags, seeds and budget."""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.suites.labels import suite_config, suite_label
from herdemos.config import Config
from herdemos.data_generation.controllers import DEFAULT_STYLE

CACHED_DEMO_EPISODES = 100
"""Clean demos train.py generates and caches itself when no --demo_file is given."""


@dataclass(frozen=True)
class Suite:
    """One training configuration, run for a fixed epoch budget on each of its seeds.

    Its name is the key it is declared under and the folder its results go to; nothing reads
    meaning out of the name. Its readable label comes from its flags (``label``), so the two
    cannot disagree.

    Attributes:
        env: The gymnasium env id train.py trains on.
        flags: train.py's flags besides ``--env``, ``--seed`` and the runner's own (logdir,
            epochs, saving intervals), exactly as given on the command line.
        epochs: The epoch budget per seed: the one the committed results were run with.
        group: The comparison the suite belongs to; its figure is drawn with the other suites
            of the group into ``benchmarks/results/<group>/`` (a group of one is the suite).
        seeds: Training seeds.
        demo_noise: Above 0, the suite trains on imperfect scripted demos recorded with this
            action noise instead of train.py's cached clean ones.
        demo_miss_prob: Above 0, stacking demos that miss a grasp with this probability and
            recover.
        demo_episodes: Scripted episodes generated for the suite (``--num_demo`` loads them).
        demo_style: The demonstrator (``fetch_data_generation.py --style``): herdemos' own
            controllers, or one herdemos was not tuned to.
    """

    env: str
    flags: tuple[str, ...]
    epochs: int
    group: str
    seeds: tuple[int, ...] = (0, 1, 2)
    demo_noise: float = 0.0
    demo_miss_prob: float = 0.0
    demo_episodes: int = CACHED_DEMO_EPISODES
    demo_style: str = DEFAULT_STYLE

    @property
    def own_demos(self) -> bool:
        """The suite needs demos of its own: imperfect ones, or not train.py's cached 100."""
        return (
            self.demo_noise > 0
            or self.demo_miss_prob > 0
            or self.demo_episodes != CACHED_DEMO_EPISODES
            or self.demo_style != DEFAULT_STYLE
        )

    @property
    def demo_file_name(self) -> str:
        """The file name of the suite's own demos (see ``own_demos``); suites recorded alike
        share it. 100 episodes keep the names the earlier results were made with."""
        miss = f"_miss{self.demo_miss_prob:g}" if self.demo_miss_prob > 0 else ""
        count = f"_{self.demo_episodes}ep" if self.demo_episodes != CACHED_DEMO_EPISODES else ""
        style = f"_{self.demo_style}" if self.demo_style != DEFAULT_STYLE else ""
        return f"{self.env}{style}_noise{self.demo_noise:g}{miss}{count}.npz"

    @property
    def config(self) -> Config:
        """The config train.py resolves from the env and flags (see ``labels.suite_config``)."""
        return suite_config(self.env, self.flags)

    @property
    def label(self) -> str:
        """The readable method label, generated from the flags and demo settings."""
        return suite_label(
            self.env, self.flags, self.demo_noise, self.demo_miss_prob, self.demo_style
        )
