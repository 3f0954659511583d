"""A warning when training grows by orders of magnitude without (yet) reaching NaN.

The NaN guards stop a run whose losses or parameters become NaN or Inf. A run can also explode
and stay finite: with ``--set pi_lr=1e6`` the actor's weights grow without bound while tanh
keeps its actions in the box, and the run trains to its end at zero success without a word.
Each epoch, the actor's and the critic's parameter norms and the loss magnitudes are compared
with their first measured values (the untrained networks' norms, the first epoch's losses); one
that has grown ``GROWTH`` times gets one warning line, and another each time it grows ``GROWTH``
times further.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

GROWTH = 1000.0  # three orders of magnitude: far beyond what a healthy run's norms or losses do
FLOOR = 1e-2  # a loss near zero at the first epoch is compared as if it were this
WARNED = "warned/"  # reference entries holding the size last warned about


def norm(arrays: Sequence[np.ndarray]) -> float:
    """The L2 norm of all the arrays' entries together."""
    return float(math.sqrt(sum(float(np.sum(np.square(a, dtype=np.float64))) for a in arrays)))


def growth_warnings(reference: dict[str, float], values: dict[str, float], epoch: int) -> list[str]:
    """Warnings for the ``values`` that grew ``GROWTH`` times past their reference.

    Args:
        reference: each quantity's first magnitude, and what was warned about; a value seen
            for the first time becomes its reference. Updated in place (checkpointed).
        values: this epoch's quantities, by name.
        epoch: the epoch just completed, for the message.
    """
    lines = []
    for name, value in values.items():
        size = abs(value)
        if not math.isfinite(size):
            continue  # the NaN guards stop the run
        if name not in reference:
            reference[name] = size
            continue
        threshold = GROWTH * max(reference.get(WARNED + name, reference[name]), FLOOR)
        if size > threshold:
            reference[WARNED + name] = size
            first = reference[name]
            lines.append(
                f"warning: epoch {epoch}: {name} is {size:.3g}, {size / max(first, FLOOR):,.0f} "
                f"times its first measured {first:.3g}; training may be diverging "
                "(a learning rate too high?)"
            )
    return lines
