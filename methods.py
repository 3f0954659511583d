"""The training methods: which one a config describes, and the switches each one sets.

The seed chose a method with switches (``--bc_loss``, ``--q_filter``, and ``bc_only`` for the
paper's BC baseline) plus ``--num_demo``. ``--method`` names the combinations that are a method;
both ways keep working, and this module is the one place that combines the switches: a
combination that is no method is refused here, in one line naming the flags.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from herdemos.config import Config
from herdemos.util import HerdemosError


@dataclass(frozen=True)
class Method:
    """One training method and the config switches that choose it.

    Attributes:
        name: its ``--method`` value.
        label: its name in plot legends and tables.
        description: what it trains, in a few words for ``--help``.
        demos: whether it needs demonstrations (``--num_demo N``, N > 0).
    """

    name: str
    label: str
    description: str
    demos: bool
    bc_loss: bool = False
    q_filter: bool = False
    bc_only: bool = False

    def switches(self) -> dict[str, bool]:
        """The config fields this method sets, by ``section.name``."""
        return {
            "ddpg.bc_loss": self.bc_loss,
            "ddpg.q_filter": self.q_filter,
            "ddpg.bc_only": self.bc_only,
        }


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("her", "HER only", "HER only", demos=False),
        Method("demo-replay", "demos in replay", "demos in replay", demos=True),
        Method("bc", "BC only", "BC alone", demos=True, bc_only=True),
        Method("bc-rl", "demos + BC", "RL + BC", demos=True, bc_loss=True),
        Method(
            "bc-qfilter",
            "demos + BC + Q-filter",
            "RL + BC where the Q-filter passes; the paper's",
            demos=True,
            bc_loss=True,
            q_filter=True,
        ),
    )
}


def method_help() -> str:
    """``--method``'s help text, listing the methods."""
    listed = ", ".join(f"{m.name} ({m.description})" for m in METHODS.values())
    return (
        f"The training method: {listed}. All but her need --num_demo N. It sets --bc_loss, "
        "--q_filter and bc_only."
    )


def method_of(config: Config) -> Method:
    """The method ``config`` describes.

    Raises:
        HerdemosError: the switches combine into no method, in a line naming the flags.
    """
    d, has_demos = config.ddpg, config.demo.num_demo > 0
    if d.bc_only and (d.bc_loss or d.q_filter):
        raise HerdemosError(
            "bc_only replaces the RL actor loss: use it without --bc_loss/--q_filter"
        )
    if d.q_filter and not d.bc_loss:
        raise HerdemosError(
            "--q_filter 1 needs --bc_loss 1: the Q-filter only decides where BC applies"
        )
    if d.q_filter_slack != "none" and not d.q_filter:
        raise HerdemosError(
            f"--set q_filter_slack={d.q_filter_slack} needs --q_filter 1: it widens the Q-filter"
        )
    if d.rl_scale != "fixed" and not d.bc_loss:
        raise HerdemosError(
            f"--set rl_scale={d.rl_scale} needs --bc_loss 1: it balances the RL term against BC"
        )
    if d.bc_only and not has_demos:
        raise HerdemosError("bc_only needs demonstrations: pass --num_demo N (N > 0)")
    if d.bc_loss and not has_demos:
        raise HerdemosError("--bc_loss 1 needs demonstrations: pass --num_demo N (N > 0)")
    switches = {"ddpg.bc_loss": d.bc_loss, "ddpg.q_filter": d.q_filter, "ddpg.bc_only": d.bc_only}
    return next(m for m in METHODS.values() if m.switches() == switches and m.demos == has_demos)


def refuse_contradictions(name: str, explicit: Mapping[str, Any], given: Mapping[str, str]) -> None:
    """Raises if a switch the user set explicitly contradicts ``--method name``.

    Args:
        explicit: the config fields the user set, by ``section.name``.
        given: how the user wrote each of them (``--q_filter 0``, ``--set bc_only=1``).
    """
    for key, value in METHODS[name].switches().items():
        if key in explicit and explicit[key] != value:
            raise HerdemosError(
                f"--method {name} sets {key.split('.')[1]}={int(value)}, "
                f"but {given[key]} contradicts it; give one or the other"
            )


def check_requested(name: str, config: Config) -> Method:
    """The method of the resolved ``config``, which must be ``--method name``.

    Raises:
        HerdemosError: the demo count does not fit the method, or the switches make no method.
    """
    has_demos = config.demo.num_demo > 0
    if METHODS[name].demos and not has_demos:
        raise HerdemosError(f"--method {name} needs demonstrations: pass --num_demo N (N > 0)")
    if has_demos and not METHODS[name].demos:
        raise HerdemosError(
            f"--method {name} uses no demonstrations, but num_demo is "
            f"{config.demo.num_demo}; drop --num_demo or choose a method with demos"
        )
    return method_of(config)


def method_label(config: Config) -> str:
    """A short human name for a run's method and its demo options, for plot legends."""
    try:
        label = method_of(config).label
    except HerdemosError:
        return "unknown method"
    if label == "HER only" and config.her.replay_strategy == "none":
        label = "DDPG only"
    if config.demo.demo_mirror:
        label += f" + mirrored demos ({config.demo.demo_mirror_planes})"
    if config.demo.demo_reset_prob > 0:
        label += f" + demo resets ({config.demo.demo_reset_prob:g})"
    return label
