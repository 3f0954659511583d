"""Refusing, before anything is allocated, sizes that cannot fit in the machine's memory.

``--set buffer_size=100000000000000`` would otherwise end in NumPy's ``_ArrayMemoryError``
traceback, and ``--set hidden=1000000`` in TensorFlow's, after the envs were made and the demos
loaded. The estimates below follow from the shapes alone (float32 everywhere); a run is refused
when one part alone would need more than the machine's physical memory and swap together. They
are lower bounds of what the part takes, so a run that is refused could never have run.
"""

from __future__ import annotations

import math
import os

from herdemos.config import Config
from herdemos.env_info import EnvInfo
from herdemos.util import HerdemosError

FLOAT = 4  # bytes of a float32
# Copies of every network parameter a learner holds: main and target networks, Adam's two
# moment slots, and the gradients of an update.
PARAMETER_COPIES = 5
# Per batch row and hidden unit of a layer: the activation, its gradient, and the twin forward
# passes (main and target) of the critic update.
ACTIVATION_COPIES = 4


def network_parameters(config: Config, info: EnvInfo) -> int:
    """Weights and biases of the actor and the critic (two critics with ``twin_q``)."""
    d = config.ddpg
    hidden, layers = d.hidden, d.layers

    def mlp(n_in: int, n_out: int) -> int:
        return (
            n_in * hidden
            + hidden
            + (layers - 1) * (hidden * hidden + hidden)
            + hidden * n_out
            + n_out
        )

    n_in = info.dim_o + info.dim_g
    critics = 2 if d.twin_q else 1
    return mlp(n_in, info.dim_u) + critics * mlp(n_in + info.dim_u, 1)


def memory_needs(config: Config, info: EnvInfo) -> list[tuple[str, str, int]]:
    """``(fields, what, bytes)`` for each part whose size the user sets, on this machine
    (every MPI rank holds its own buffer and networks)."""
    t, d = config.train, config.ddpg
    ranks = t.num_cpu
    horizon = info.horizon
    episode = (horizon + 1) * (info.dim_o + info.dim_g) + horizon * (info.dim_g + info.dim_u + 1)
    capacity = max(1, t.buffer_size // horizon)
    rows = d.batch_size * (2 * info.dim_o + info.dim_g + info.dim_u + 2)
    activations = d.batch_size * d.hidden * d.layers * ACTIVATION_COPIES
    return [
        (f"buffer_size={t.buffer_size}", "the replay buffer", ranks * capacity * episode * FLOAT),
        (
            f"hidden={d.hidden}, layers={d.layers}",
            "the networks and their optimiser state",
            ranks * PARAMETER_COPIES * network_parameters(config, info) * FLOAT,
        ),
        (
            f"batch_size={d.batch_size}, hidden={d.hidden}",
            "one update's batch and activations",
            ranks * (rows + activations) * FLOAT,
        ),
    ]


def machine_memory() -> int | None:
    """Physical memory plus swap, in bytes (None where the system does not say)."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    swap = 0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("SwapTotal:"):
                    swap = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return physical + swap


def human_bytes(n: float) -> str:
    """``3.6 PiB``: binary units, three significant figures."""
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    power = min(int(math.log(max(n, 1), 1024)), len(units) - 1)
    return f"{n / 1024**power:.3g} {units[power]}" if power else f"{int(n)} B"


def check_memory(config: Config, info: EnvInfo, available: int | None = None) -> None:
    """Raises if a part of the run alone would need more memory than the machine has.

    Args:
        config: the run's configuration.
        info: the env's sizes.
        available: bytes to compare with (default: :func:`machine_memory`).

    Raises:
        HerdemosError: one line naming the fields, what they size, and the memory needed.
    """
    available = machine_memory() if available is None else available
    if available is None:
        return
    for fields, what, needed in memory_needs(config, info):
        if needed > available:
            ranks = f" on {config.train.num_cpu} ranks" if config.train.num_cpu > 1 else ""
            raise HerdemosError(
                f"{fields}: {what} would need {human_bytes(needed)}{ranks}, more than this "
                f"machine's {human_bytes(available)} of memory"
            )
