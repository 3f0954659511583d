"""The Fetch basics: Reach, Push, PickAndPlace and Slide, each with the paper's method, and
PickAndPlace against the paper's baselines and on imperfect demos."""

from __future__ import annotations

from benchmarks.suites.record import Suite

DEMOS = ("--num_demo", "100")
METHOD = (*DEMOS, "--bc_loss", "1", "--q_filter", "1")
"""The paper's method: 100 demos, the BC loss and the Q-filter."""

NOISY_DEMOS = 0.5
"""Action noise of the imperfect PickAndPlace demos: the scripted controller then fails often,
which is where the Q-filter is meant to matter."""

SUITES: dict[str, Suite] = {
    "reach": Suite("FetchReach-v4", ("--num_demo", "0"), 10, "reach"),
    "push": Suite("FetchPush-v4", METHOD, 80, "push"),
    "slide": Suite("FetchSlide-v4", METHOD, 40, "slide"),
    "pickplace": Suite("FetchPickAndPlace-v4", METHOD, 30, "pickplace-methods"),
    "pickplace-resets": Suite(
        "FetchPickAndPlace-v4", (*METHOD, "--demo_reset_prob", "0.1"), 30, "pickplace-methods"
    ),
    "pickplace-bc-only": Suite(
        "FetchPickAndPlace-v4", (*DEMOS, "--set", "bc_only=1"), 30, "pickplace-methods"
    ),
    "pickplace-her": Suite("FetchPickAndPlace-v4", ("--num_demo", "0"), 60, "pickplace-methods"),
    "pickplace-noisy-bc-qfilter": Suite(
        "FetchPickAndPlace-v4", METHOD, 20, "pickplace-noisy", (0,), demo_noise=NOISY_DEMOS
    ),
    "pickplace-noisy-bc": Suite(
        "FetchPickAndPlace-v4",
        (*DEMOS, "--bc_loss", "1"),
        20,
        "pickplace-noisy",
        (0,),
        demo_noise=NOISY_DEMOS,
    ),
    "pickplace-noisy-bc-only": Suite(
        "FetchPickAndPlace-v4",
        (*DEMOS, "--set", "bc_only=1"),
        20,
        "pickplace-noisy",
        (0,),
        demo_noise=NOISY_DEMOS,
    ),
}

REFERENCES: dict[str, tuple[tuple[str, float, float], ...]] = {
    # What the original project's README reported for FetchPickAndPlace (one MPI rank, epochs of
    # 1,000 env steps), drawn as points on the comparison's figure.
    "pickplace-methods": (
        ("original README: demos, ~0.95 at ~375k steps", 375_000, 0.95),
        ("original README: no demos, ~0.7 at 1M steps", 1_000_000, 0.7),
    ),
}
