"""The WAM arm (issue #8): reach, pick-and-place, the two-block tower with its one-critic
comparison, and the four-block tower (the Stack2 settings, and Fetch Stack4's recipe)."""

from __future__ import annotations

from benchmarks.suites.record import Suite
from benchmarks.suites.stacking import STACK4_RECIPE, stacking

METHOD = ("--num_demo", "100", "--bc_loss", "1", "--q_filter", "1")
DEMO_NOISE = 0.1
"""Action noise of the stacking demos, as on Fetch."""

SUITES: dict[str, Suite] = {
    "wam-reach": Suite("WAMReach-v0", METHOD, 10, "wam-reach", (0,)),
    "wam-pickplace": Suite("WAMPickAndPlace-v0", METHOD, 30, "wam-pickplace", (0,)),
    "wam-stack2": Suite(
        "WAMStack2-Step-v1",
        (*METHOD, "--demo_reset_prob", "0.1", "--preset", "stacking-td3"),
        270,
        "wam-stack2-critics",
        (0,),
        demo_noise=DEMO_NOISE,
    ),
    "wam-stack2-one-critic": Suite(
        "WAMStack2-Step-v1",
        (*METHOD, "--demo_reset_prob", "0.1", "--preset", "stacking"),
        300,
        "wam-stack2-critics",
        (0,),
        demo_noise=DEMO_NOISE,
    ),
    "wam-stack4": Suite(
        "WAMStack4-Step-v1",
        (*METHOD, "--demo_reset_prob", "0.5", "--preset", "stacking"),
        201,
        "wam-stack4",
        (0,),
        demo_noise=DEMO_NOISE,
    ),
    # Fetch Stack4's 300-demo recipe on the WAM.
    "wam-stack4-bc-rl-mirror-scaled-300": stacking(
        "WAMStack4-Step-v1",
        STACK4_RECIPE,
        80,
        "wam-stack4-bc-rl-mirror-scaled-300",
        300,
    ),
}
