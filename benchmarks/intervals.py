"""Success rates with 95% confidence intervals, as the evaluation reports them."""

from __future__ import annotations

import numpy as np


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a binomial rate: unlike the normal approximation it stays
    inside [0, 1] and is honest near 0 and 1, where these success rates live."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # At p = 0 or 1 one bound is exactly 0 or 1; rounding could put it just inside the rate.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return float(low), float(high)


def rate_entry(successes: list[bool]) -> dict:
    """Successes, episodes, rate and its 95% interval, as one results-JSON entry."""
    k, n = int(sum(successes)), len(successes)
    low, high = wilson_interval(k, n)
    return {"successes": k, "episodes": n, "success_rate": k / n, "ci95": [low, high]}
